"""Canonical bar frames: a yfinance answer becomes typed rows inside the sessions, one per time."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from stock_pipeline.domain.bars import (
    DAILY_COLUMNS,
    INTRADAY_COLUMNS,
    normalize_daily,
    normalize_intraday,
)

NY = ZoneInfo("America/New_York")
WED = date(2026, 11, 25)


def yfinance_frame(index: list[datetime], rows: list[tuple[float, ...]]) -> pd.DataFrame:
    """A frame shaped like yfinance's ``history()``: capitalised columns, a New York index."""
    columns = ["Open", "High", "Low", "Close", "Volume"]
    return pd.DataFrame(rows, columns=columns, index=pd.DatetimeIndex(index))


def test_intraday_keeps_session_bars_once_in_utc_and_drops_the_rest() -> None:
    at = [
        datetime(2026, 11, 25, 9, 30, tzinfo=NY),
        datetime(2026, 11, 25, 9, 35, tzinfo=NY),
        datetime(2026, 11, 25, 9, 35, tzinfo=NY),  # repeated: the later answer wins
        datetime(2026, 11, 25, 9, 40, tzinfo=NY),  # all null
        datetime(2026, 11, 25, 16, 0, tzinfo=NY),  # Yahoo's appended "latest" bar
        datetime(2026, 11, 25, 8, 0, tzinfo=NY),  # pre-market
    ]
    nan = float("nan")
    raw = yfinance_frame(
        at,
        [
            (10, 11, 9, 10.5, 100),
            (10.5, 12, 10, 11, 200),
            (10.5, 12, 10, 11.5, nan),
            (nan, nan, nan, nan, nan),
            (11, 11, 11, 11, 0),
            (9, 9, 9, 9, 5),
        ],
    )
    out = normalize_intraday(raw, "AAPL", "5m", [WED])
    assert out.dtypes.astype(str).to_dict() == INTRADAY_COLUMNS
    assert list(out["ts"]) == [
        pd.Timestamp("2026-11-25 14:30", tz="UTC"),
        pd.Timestamp("2026-11-25 14:35", tz="UTC"),
    ]
    assert list(out["close"]) == [10.5, 11.5]
    assert list(out["volume"]) == [100, 0]  # a missing volume is stored as 0
    assert set(out["session_date"]) == {WED}
    assert set(out["symbol"]) == {"AAPL"} and set(out["interval"]) == {"5m"}


def test_intraday_without_a_timezone_is_read_as_new_york() -> None:
    raw = yfinance_frame([datetime(2026, 11, 25, 9, 30)], [(1, 1, 1, 1, 1)])
    out = normalize_intraday(raw, "KO", "1m", [WED])
    assert list(out["ts"]) == [pd.Timestamp("2026-11-25 14:30", tz="UTC")]


def test_intraday_outside_the_given_sessions_is_empty() -> None:
    raw = yfinance_frame([datetime(2026, 11, 24, 9, 30, tzinfo=NY)], [(1, 1, 1, 1, 1)])
    assert normalize_intraday(raw, "KO", "1m", [WED]).empty
    empty = normalize_intraday(pd.DataFrame(), "KO", "1m", [WED])
    assert empty.empty and list(empty.columns) == list(INTRADAY_COLUMNS)


def test_daily_keeps_raw_prices_adjusted_close_and_actions_as_data() -> None:
    index = pd.DatetimeIndex([datetime(2026, 6, 12, tzinfo=NY), datetime(2026, 6, 15, tzinfo=NY)])
    raw = pd.DataFrame(
        {
            "Open": [400.0, 101.0],
            "High": [404.0, 102.0],
            "Low": [396.0, 100.0],
            "Close": [402.0, 101.5],
            "Adj Close": [100.0, 101.0],
            "Volume": [1000, np.nan],
            "Dividends": [0.0, 0.25],
            "Stock Splits": [0.0, 4.0],
        },
        index=index,
    )
    out = normalize_daily(raw, "SPLT", "1d")
    assert out.dtypes.astype(str).to_dict() == DAILY_COLUMNS
    assert list(out["date"]) == [date(2026, 6, 12), date(2026, 6, 15)]
    assert list(out["close"]) == [402.0, 101.5] and list(out["adj_close"]) == [100.0, 101.0]
    assert list(out["stock_splits"]) == [0.0, 4.0] and list(out["dividends"]) == [0.0, 0.25]
    assert list(out["volume"]) == [1000, 0]


def test_daily_without_adjusted_close_or_actions_uses_the_close_and_zeros() -> None:
    raw = yfinance_frame(
        [datetime(2026, 11, 23), datetime(2026, 11, 23)], [(1, 2, 1, 1.5, 10), (1, 2, 1, 1.8, 12)]
    )
    out = normalize_daily(raw, "KO", "1wk")
    assert out.to_dict("records") == [
        {
            "symbol": "KO",
            "interval": "1wk",
            "date": date(2026, 11, 23),
            "open": 1.0,
            "high": 2.0,
            "low": 1.0,
            "close": 1.8,
            "adj_close": 1.8,
            "volume": 12,
            "dividends": 0.0,
            "stock_splits": 0.0,
        }
    ]
