"""Reading stored bars back for a chart: the window asked for, or why nothing is there."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.errors import InvalidDateRangeError, InvalidIntervalError
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW
from stock_pipeline.warehouse.stored_bars import (
    NothingStoredError,
    load_stored_bars,
    normalize_chart_interval,
)
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars

NOW = DEFAULT_TEST_NOW  # Wednesday 2026-11-25 after the close
TUE, WED = date(2026, 11, 24), date(2026, 11, 25)


@pytest.fixture
def stored(duckdb_file: Path) -> Path:
    """AAPL 5m bars for Tuesday and Wednesday; one daily KO bar."""
    warehouse = WarehouseResource(path=str(duckdb_file))
    fetched = {"fetched_at": datetime(2026, 11, 25, 22, 0, tzinfo=UTC)}
    for day, price in ((TUE, 100.0), (WED, 110.0)):
        warehouse.write(INTRADAY_PRICES, bars("AAPL", day, price=price), fetched)
    daily = pd.DataFrame(
        {
            "symbol": ["KO"],
            "interval": ["1d"],
            "date": [date(2026, 11, 20)],
            "year": [2026],
            "open": [60.0],
            "high": [61.0],
            "low": [59.0],
            "close": [60.5],
            "adj_close": [60.5],
            "volume": [1000],
            "dividends": [0.0],
            "stock_splits": [0.0],
        }
    )
    warehouse.write(DAILY_PRICES, daily, fetched)
    return duckdb_file


def test_intraday_bars_of_the_last_sessions_oldest_first(stored: Path) -> None:
    found = load_stored_bars(stored, "AAPL", "5m", None, NOW)
    assert (found.time_col, found.first, found.last) == ("ts", date(2026, 11, 19), WED)
    assert len(found.frame) == 2 * 78
    assert list(found.frame.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert found.frame["ts"].is_monotonic_increasing
    assert list(found.frame["open"].iloc[[0, -1]]) == [100.0, 110.0]


def test_days_and_end_choose_the_sessions(stored: Path) -> None:
    assert set(load_stored_bars(stored, "AAPL", "5m", 1, NOW).frame["open"]) == {110.0}
    tuesday = load_stored_bars(stored, "AAPL", "5m", 1, NOW, end=TUE)
    assert (tuesday.first, tuesday.last, set(tuesday.frame["open"])) == (TUE, TUE, {100.0})


def test_daily_bars_over_calendar_days(stored: Path) -> None:
    found = load_stored_bars(stored, "KO", "1D", 30, NOW)
    assert (found.time_col, found.first, found.last) == ("date", WED - timedelta(days=29), WED)
    assert list(found.frame["close"]) == [60.5]


def test_an_empty_window_says_what_is_stored_and_how_to_reach_it(stored: Path) -> None:
    sunday = date(2026, 11, 22)  # read as the Friday before
    with pytest.raises(NothingStoredError) as empty:
        load_stored_bars(stored, "AAPL", "5m", 1, NOW, end=sunday)
    assert "no 5m bars of AAPL in the last 1 session(s) (2026-11-20 … 2026-11-20)" in str(
        empty.value
    )
    assert "5m 2026-11-24 … 2026-11-25 (156 bars)" in str(empty.value)
    assert "--days" in str(empty.value)


def test_another_interval_or_symbol_says_which_sync_to_run(stored: Path) -> None:
    with pytest.raises(NothingStoredError, match="sync-intraday --symbols AAPL --interval 15m"):
        load_stored_bars(stored, "AAPL", "15m", None, NOW)
    with pytest.raises(NothingStoredError, match="sync-historical --symbols AAPL --interval 1wk"):
        load_stored_bars(stored, "AAPL", "1wk", None, NOW)
    with pytest.raises(NothingStoredError, match="nothing is stored for MSFT"):
        load_stored_bars(stored, "MSFT", "5m", None, NOW)


def test_no_warehouse_yet(tmp_path: Path) -> None:
    with pytest.raises(NothingStoredError, match="nothing has been synced yet"):
        load_stored_bars(tmp_path / "none.duckdb", "AAPL", "5m", None, NOW)


def test_a_future_end_or_a_bad_interval_is_refused(stored: Path) -> None:
    with pytest.raises(InvalidDateRangeError, match="in the future"):
        load_stored_bars(stored, "AAPL", "5m", None, NOW, end=date(2026, 11, 27))
    with pytest.raises(InvalidIntervalError):
        load_stored_bars(stored, "AAPL", "3m", None, NOW)


def test_chart_intervals() -> None:
    assert [normalize_chart_interval(v) for v in ("1h", " 1WK", "5M", "1d")] == [
        "60m",
        "1wk",
        "5m",
        "1d",
    ]
