from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.defs.retention import KEEP_DAYS_ENV
from stock_pipeline.domain.partition_keys import DEFAULT_INTRADAY_WINDOW_DAYS, intraday_window_start
from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.reporting.status import collect_status, status_window
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.quarantine import quarantine_symbol

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=NY)
WINDOW = sessions_between(date(2026, 10, 26), date(2026, 11, 25))  # 30 days kept


def store(database: Path, frame: pd.DataFrame, fetched: datetime) -> None:
    stamp = pd.Timestamp(fetched).tz_convert("UTC")
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, frame.assign(fetched_at=stamp))


def after_close(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, 30, tzinfo=NY)


def test_the_window_is_yahoo_s_lookback_cut_at_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    assert status_window(NOW, "5m") == WINDOW
    before_close = datetime(2026, 11, 25, 15, 0, tzinfo=NY)
    assert status_window(before_close, "5m")[-1] == date(2026, 11, 24)  # today still trades
    monkeypatch.setenv(KEEP_DAYS_ENV, "365")
    assert status_window(NOW, "5m")[0] == date(2026, 9, 28)  # 60-day lookback for 5m


def test_the_default_intraday_window_holds_every_day_status_examines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`status` reads Yahoo's 60-day lookback (cut at retention): with a retention longer
    than that, its first day is still a partition, evenings (UTC a day ahead) included."""
    monkeypatch.setenv(KEEP_DAYS_ENV, "365")
    for hours in range(0, 366 * 24, 13):  # a year, every hour of the day in turn
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
        start = intraday_window_start(now.date(), DEFAULT_INTRADAY_WINDOW_DAYS)
        examined = status_window(now, "5m")
        assert examined and examined[0] >= start, now


def test_status_lists_newest_bars_gaps_and_quarantine(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "ZZDEAD"])
    quarantine_symbol(instance, "ZZDEAD", "SymbolNotFoundError: ZZDEAD", datetime.now(UTC))
    skipped = date(2026, 11, 10)
    for day in WINDOW:
        if day != skipped:
            store(duckdb_file, bars("AAPL", day), after_close(day))
    store(duckdb_file, bars("AAPL", date(2026, 11, 25), "60m"), after_close(date(2026, 11, 25)))
    store(duckdb_file, bars("MSFT", date(2026, 11, 24)).iloc[:70], after_close(date(2026, 11, 24)))
    store(
        duckdb_file,
        bars("MSFT", date(2026, 11, 25)).iloc[:20],
        datetime(2026, 11, 25, 11, 5, tzinfo=NY),
    )
    daily = pd.DataFrame(
        {
            "symbol": ["AAPL"],
            "interval": ["1d"],
            "date": [date(2026, 11, 24)],
            "year": [2026],
            "open": [1.0],
            "high": [2.0],
            "low": [0.5],
            "close": [1.5],
            "adj_close": [1.5],
            "volume": [10],
            "dividends": [0.0],
            "stock_splits": [0.0],
            "fetched_at": [pd.Timestamp("2026-11-24 22:00", tz="UTC")],
        }
    )
    WarehouseResource(path=str(duckdb_file)).write(DAILY_PRICES, daily)

    report = collect_status(instance, duckdb_file, NOW)
    assert report.window == (WINDOW[0], WINDOW[-1])
    by = {s.symbol: s for s in report.symbols}
    assert by["AAPL"].latest == {
        "5m": "2026-11-25 15:55",
        "60m": "2026-11-25 15:30",
        "1d": "2026-11-24",
    }
    assert by["AAPL"].missing == [skipped] and by["AAPL"].gaps == 1
    assert by["MSFT"].short == [date(2026, 11, 24)]
    assert by["MSFT"].provisional == [date(2026, 11, 25)]
    assert len(by["MSFT"].missing) == len(WINDOW) - 2
    assert by["ZZDEAD"].quarantine is not None and by["ZZDEAD"].latest == {}
    assert by["AAPL"].quarantine is None


def test_without_a_warehouse_every_session_is_missing(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    (status,) = collect_status(instance, duckdb_file, NOW).symbols
    assert status.missing == WINDOW
    assert not duckdb_file.exists()  # status never creates the warehouse


def test_status_tells_short_sessions_pending_repair_from_confirmed_ones(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    pending, confirmed = date(2026, 11, 23), date(2026, 11, 24)
    for day in WINDOW:
        store(duckdb_file, bars("AAPL", day), after_close(day))
    store(duckdb_file, bars("AAPL", pending).iloc[:60], after_close(pending))
    for hour in (17, 18, 19):  # the first final fetch and two more: accepted as short
        at = datetime(2026, 11, 24, hour, 0, tzinfo=NY)
        store(duckdb_file, bars("AAPL", confirmed).iloc[:60], at)
    (status,) = collect_status(instance, duckdb_file, NOW).symbols
    assert (status.short, status.short_confirmed) == ([pending], [confirmed])
    assert status.missing == [] and status.gaps == 2
