import pytest

from stock_pipeline.domain.errors import InvalidIntervalError, InvalidSymbolError
from stock_pipeline.domain.intervals import (
    intraday_spec,
    normalize_history_interval,
    normalize_intraday_interval,
    normalize_period,
)
from stock_pipeline.domain.symbols import normalize_symbol, parse_symbols


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


@pytest.mark.parametrize("good", ["aapl", "BRK-B", "BF.B", "^GSPC", "EURUSD=X", "0700.HK"])
def test_yahoo_symbols_are_accepted(good: str) -> None:
    assert normalize_symbol(good) == good.upper()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("AAPL;DROP TABLE", "characters"),
        ("A" * 13, "at most 12"),
        ("  ", "empty"),
        ("$TSLA", "characters"),
        ("A'B", "characters"),
    ],
)
def test_bad_symbols_are_refused_before_sql(bad: str, reason: str) -> None:
    with pytest.raises(InvalidSymbolError, match=reason):
        normalize_symbol(bad)


def test_parse_symbols_dedupes_in_order() -> None:
    assert parse_symbols("msft, aapl,MSFT,,") == ["MSFT", "AAPL"]
    with pytest.raises(InvalidSymbolError, match="no symbols"):
        parse_symbols(" , ")
