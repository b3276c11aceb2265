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


def test_the_final_grace_period_is_minutes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from stock_pipeline import settings
    from stock_pipeline.domain.errors import InvalidSettingError
    from stock_pipeline.settings.automation import FINAL_GRACE_ENV, final_grace

    assert final_grace() == timedelta(minutes=15)
    monkeypatch.setenv(FINAL_GRACE_ENV, "30")
    assert final_grace() == timedelta(minutes=30)
    monkeypatch.setenv(FINAL_GRACE_ENV, "0")
    assert final_grace() == timedelta(0)  # final at the close itself
    for bad in ("-5", "15m", "1441"):
        monkeypatch.setenv(FINAL_GRACE_ENV, bad)
        with pytest.raises(InvalidSettingError, match=rf"\${FINAL_GRACE_ENV}='{bad}'.*0 to 1440"):
            final_grace()
        with pytest.raises(InvalidSettingError, match=FINAL_GRACE_ENV):
            settings.validate()  # the command line refuses it before any work


def test_short_session_refetches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from stock_pipeline.domain.errors import InvalidSettingError
    from stock_pipeline.settings.automation import SHORT_REFETCHES_ENV, short_session_refetches

    assert short_session_refetches() == 2
    monkeypatch.setenv(SHORT_REFETCHES_ENV, "0")
    assert short_session_refetches() == 0
    monkeypatch.setenv(SHORT_REFETCHES_ENV, "twice")
    with pytest.raises(InvalidSettingError, match="whole number of re-fetches from 0 to 20"):
        short_session_refetches()
