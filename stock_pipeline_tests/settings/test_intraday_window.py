"""How far back the intraday partitions reach: STOCK_PIPELINE_INTRADAY_WINDOW_MONTHS."""

import pytest

from stock_pipeline import settings
from stock_pipeline.domain.errors import InvalidSettingError
from stock_pipeline.settings import INTRADAY_WINDOW_MONTHS_ENV, intraday_window_months


def test_unset_or_empty_is_three_months(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(INTRADAY_WINDOW_MONTHS_ENV, raising=False)
    assert intraday_window_months() == 3
    monkeypatch.setenv(INTRADAY_WINDOW_MONTHS_ENV, "  ")
    assert intraday_window_months() == 3


@pytest.mark.parametrize(("raw", "months"), [("1", 1), (" 7 ", 7), ("24", 24)])
def test_a_whole_number_of_months_from_1_to_24_is_read(
    monkeypatch: pytest.MonkeyPatch, raw: str, months: int
) -> None:
    monkeypatch.setenv(INTRADAY_WINDOW_MONTHS_ENV, raw)
    assert intraday_window_months() == months


@pytest.mark.parametrize("raw", ["0", "-3", "25", "120", "3.5", "six", "3m"])
def test_a_bad_value_is_refused_naming_the_variable_and_the_range(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(INTRADAY_WINDOW_MONTHS_ENV, raw)
    expected = (
        f"STOCK_PIPELINE_INTRADAY_WINDOW_MONTHS={raw!r} is not a whole number of months "
        f"from 1 to 24 (default 3)"
    )
    with pytest.raises(InvalidSettingError) as refused:
        intraday_window_months()
    assert expected in str(refused.value)
    with pytest.raises(InvalidSettingError, match=INTRADAY_WINDOW_MONTHS_ENV):
        settings.validate()  # commands check it before any work
