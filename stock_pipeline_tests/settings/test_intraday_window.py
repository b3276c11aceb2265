"""How far back the intraday partitions reach: STOCK_PIPELINE_INTRADAY_WINDOW_DAYS."""

import pytest

from stock_pipeline import settings
from stock_pipeline.domain.errors import InvalidSettingError
from stock_pipeline.settings import INTRADAY_WINDOW_DAYS_ENV, intraday_window_days


def test_unset_or_empty_is_63_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(INTRADAY_WINDOW_DAYS_ENV, raising=False)
    assert intraday_window_days() == 63
    monkeypatch.setenv(INTRADAY_WINDOW_DAYS_ENV, "  ")
    assert intraday_window_days() == 63


@pytest.mark.parametrize(("raw", "days"), [("7", 7), (" 90 ", 90), ("730", 730), ("1100", 1100)])
def test_a_whole_number_of_days_from_7_to_1100_is_read(
    monkeypatch: pytest.MonkeyPatch, raw: str, days: int
) -> None:
    monkeypatch.setenv(INTRADAY_WINDOW_DAYS_ENV, raw)
    assert intraday_window_days() == days


@pytest.mark.parametrize("raw", ["0", "6", "-63", "1101", "63.5", "sixty", "63d", "3m"])
def test_a_bad_value_is_refused_naming_the_variable_and_the_range(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(INTRADAY_WINDOW_DAYS_ENV, raw)
    expected = (
        f"STOCK_PIPELINE_INTRADAY_WINDOW_DAYS={raw!r} is not a whole number of days "
        f"from 7 to 1100 (default 63)"
    )
    with pytest.raises(InvalidSettingError) as refused:
        intraday_window_days()
    assert expected in str(refused.value)
    with pytest.raises(InvalidSettingError, match=INTRADAY_WINDOW_DAYS_ENV):
        settings.validate()  # commands check it before any work


def test_the_former_months_setting_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_INTRADAY_WINDOW_MONTHS", "12")
    monkeypatch.delenv(INTRADAY_WINDOW_DAYS_ENV, raising=False)
    assert intraday_window_days() == 63
