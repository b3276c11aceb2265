"""Intraday and history intervals: one stored spelling, Yahoo's lookbacks, clear refusals."""

import pytest

from stock_pipeline.domain.errors import InvalidIntervalError
from stock_pipeline.domain.intervals import (
    intraday_spec,
    normalize_history_interval,
    normalize_intraday_interval,
    normalize_period,
)


def test_one_hour_has_one_stored_spelling() -> None:
    assert normalize_intraday_interval("1h") == normalize_intraday_interval("60m") == "60m"
    assert normalize_intraday_interval(" 5M ") == "5m"


def test_lookbacks_are_yahoos() -> None:
    assert intraday_spec("1m").lookback_days == 30
    assert intraday_spec("1m").max_days_per_request == 8
    assert intraday_spec("90m").lookback_days == 60
    assert intraday_spec("1h").lookback_days == 730


@pytest.mark.parametrize("bad", ["3m", "1d", "", "five"])
def test_bad_intraday_interval_says_what_to_use(bad: str) -> None:
    with pytest.raises(InvalidIntervalError, match="use one of"):
        normalize_intraday_interval(bad)


def test_history_interval_and_period() -> None:
    assert normalize_history_interval("1WK") == "1wk"
    assert normalize_period("MAX") == "max"
    with pytest.raises(InvalidIntervalError, match="1d or 1wk"):
        normalize_history_interval("5m")
    with pytest.raises(InvalidIntervalError, match="--start-date"):
        normalize_period("3y")
