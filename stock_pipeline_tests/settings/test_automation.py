"""Settings read at tick time: retention days and the declarative symbol list."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from stock_pipeline.settings.automation import (
    KEEP_DAYS_ENV,
    keep_days,
    read_symbol_file,
    retained_since,
)


def test_keep_days_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert keep_days() == 30
    monkeypatch.setenv(KEEP_DAYS_ENV, "45")
    assert keep_days() == 45
    assert retained_since(datetime(2026, 12, 24, 12, tzinfo=UTC)) == date(2026, 11, 9)
    for bad in ("0", "a month"):
        monkeypatch.setenv(KEEP_DAYS_ENV, bad)
        with pytest.raises(ValueError, match=KEEP_DAYS_ENV):
            keep_days()


def test_the_symbol_file_reads_comments_case_and_duplicates(tmp_path: Path) -> None:
    listing = tmp_path / "symbols.txt"
    listing.write_text("# tech\naapl\nMSFT  # again below\n\nmsft\nBRK-B\n")
    assert read_symbol_file(listing) == ["AAPL", "MSFT", "BRK-B"]
    with pytest.raises(FileNotFoundError, match="STOCK_PIPELINE_SYMBOLS_FILE"):
        read_symbol_file(tmp_path / "absent.txt")


def test_the_threshold_is_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stock_pipeline.settings import automation as automation_settings

    assert automation_settings.quarantine_after() == 3
    monkeypatch.setenv("STOCK_PIPELINE_QUARANTINE_AFTER", "5")
    assert automation_settings.quarantine_after() == 5
    monkeypatch.setenv("STOCK_PIPELINE_QUARANTINE_AFTER", "0")
    with pytest.raises(ValueError, match="at least 1"):
        automation_settings.quarantine_after()
