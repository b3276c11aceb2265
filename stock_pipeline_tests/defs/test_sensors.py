"""Sensors evaluated by Dagster (``build_sensor_context`` + ``evaluate_tick``) at pinned clocks.

The suite's clock is 2026-11-25 21:30 UTC (16:30 New York, after the close); tests that
need another instant pin ``STOCK_PIPELINE_NOW`` themselves.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.defs import sensors
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.defs.schedules import intraday_hourly_schedule
from stock_pipeline.domain.errors import (
    InvalidSymbolError,
    LookbackExceededError,
    OutOfScopeError,
)
from stock_pipeline.domain.planning import check_lookback
from stock_pipeline.domain.trading_calendar import session_close, sessions_between
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.quarantine import quarantine_symbol

if TYPE_CHECKING:
    from dagster._core.definitions.sensor_definition import SensorExecutionData

NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
FIRST_IN_LOOKBACK = date(2026, 9, 28)  # 60 days back, less a day of margin
LOOKBACK = sessions_between(FIRST_IN_LOOKBACK, date(2026, 11, 25))
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def evaluate(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None = None
) -> SensorExecutionData:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        # $STOCK_PIPELINE_WAREHOUSE and $STOCK_PIPELINE_YAHOO_URL: the test's
        resources={"warehouse": WarehouseResource(), "yahoo": YahooFinanceResource()},
    )
    return sensor.evaluate_tick(context)


def span(request: dg.RunRequest) -> tuple[str, str]:
    tags = request.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"], tags["dagster/partition"]
    return tags[RANGE_START], tags[RANGE_END]


def by_job(result: SensorExecutionData) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for request in result.run_requests or []:
        assert request.job_name is not None
        found.setdefault(request.job_name, []).append(span(request))
    return found


def pin_clock(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_NOW", instant.isoformat())


# ---- symbols_sensor ------------------------------------------------------------------


def test_new_symbols_get_their_history_within_yahoo_s_lookback(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_INTRADAY_RETENTION_DAYS", "90")  # lookback binds first
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    first = evaluate(sensors.symbols_sensor, instance)
    assert by_job(first) == {
        "intraday_prices_job": [("2026-09-28|AAPL", "2026-11-25|MSFT")],
        "stocks_job": [("AAPL", "MSFT")],
        "daily_prices_job": [("2025|AAPL", "2026|MSFT")],
    }
    intraday = next(r for r in first.run_requests or [] if r.job_name == "intraday_prices_job")
    assert intraday.run_config == {"ops": {"intraday_prices": {"config": {"interval": "5m"}}}}
    # The first day asked for is one Yahoo still serves; the session before it is not.
    check_lookback(FIRST_IN_LOOKBACK, "5m", NOW)
    with pytest.raises(LookbackExceededError):
        check_lookback(date(2026, 9, 25), "5m", NOW)

    again = evaluate(sensors.symbols_sensor, instance, first.cursor)
    assert not again.run_requests and "none new" in (again.skip_message or "")

    instance.add_dynamic_partitions("symbols", ["IBM"])  # e.g. `stock-pipeline symbols add`
    third = evaluate(sensors.symbols_sensor, instance, again.cursor)
    assert by_job(third) == {
        "intraday_prices_job": [("2026-09-28|IBM", "2026-11-25|IBM")],
        "stocks_job": [("IBM", "IBM")],
        "daily_prices_job": [("2025|IBM", "2026|IBM")],
    }
    first_keys = {r.run_key for r in first.run_requests or []}
    assert first_keys.isdisjoint(r.run_key for r in third.run_requests or [])


def test_the_symbol_file_adds_and_removes_partitions_and_removed_ones_stop_syncing(
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_yahoo: FakeYahoo,
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    instance.add_dynamic_partitions("symbols", ["AAPL", "OLD"])
    listing = tmp_path / "symbols.txt"
    listing.write_text("# core holdings\nAAPL\nmsft   # lower case is fine\n\nIBM\n")
    monkeypatch.setenv("STOCK_PIPELINE_SYMBOLS_FILE", str(listing))
    cursor = sensors.SymbolsCursor(["AAPL", "OLD"], 4).dump()
    result = evaluate(sensors.symbols_sensor, instance, cursor)
    (add, delete) = result.dynamic_partitions_requests or []
    assert isinstance(add, dg.AddDynamicPartitionsRequest)
    assert isinstance(delete, dg.DeleteDynamicPartitionsRequest)
    assert (add.partition_keys, delete.partition_keys) == (["MSFT", "IBM"], ["OLD"])
    # Only the new ones are backfilled, as one range in the order they will be registered.
    assert by_job(result)["stocks_job"] == [("MSFT", "IBM")]
    assert all(
        r.run_key and r.run_key.startswith("symbols_sensor:5:") for r in result.run_requests or []
    )

    # Applied as the daemon would: OLD is no longer synced by the schedules.
    instance.delete_dynamic_partition("symbols", "OLD")
    instance.add_dynamic_partitions("symbols", ["MSFT", "IBM"])
    tick = intraday_hourly_schedule.evaluate_tick(
        dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
        )
    )
    (request,) = tick.run_requests or []
    assert span(request) == ("2026-11-24|AAPL", "2026-11-24|IBM")


def test_an_empty_or_bad_symbol_file_fails_the_tick_without_removing_anything(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    listing = tmp_path / "symbols.txt"
    monkeypatch.setenv("STOCK_PIPELINE_SYMBOLS_FILE", str(listing))
    listing.write_text("# nothing yet\n")
    with pytest.raises(InvalidSymbolError, match="lists no symbols"):
        evaluate(sensors.symbols_sensor, instance)
    listing.write_text("AAPL\nBRK B\n")
    with pytest.raises(InvalidSymbolError, match=r"symbols\.txt:2"):
        evaluate(sensors.symbols_sensor, instance)
    assert instance.get_dynamic_partitions("symbols") == ["AAPL"]


def test_a_symbol_file_with_an_out_of_scope_instrument_fails_the_tick_and_applies_nothing(
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_yahoo: FakeYahoo,
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    instance.add_dynamic_partitions("symbols", ["AAPL", "OLD"])
    listing = tmp_path / "symbols.txt"
    listing.write_text("AAPL\nMSFT\nBTC-USD\n")
    monkeypatch.setenv("STOCK_PIPELINE_SYMBOLS_FILE", str(listing))
    with pytest.raises(OutOfScopeError, match=r"BTC-USD: Yahoo reports exchange CCC, timezone UTC"):
        evaluate(sensors.symbols_sensor, instance)
    assert fake_yahoo.requests["quote"] == 1  # the same one request `symbols add` makes
    assert instance.get_dynamic_partitions("symbols") == ["AAPL", "OLD"]  # nothing applied


def test_a_quarantined_symbol_is_not_backfilled(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "ZZDEAD"])
    quarantine_symbol(instance, "ZZDEAD", "test", NOW)
    result = evaluate(sensors.symbols_sensor, instance)
    assert by_job(result)["stocks_job"] == [("AAPL", "AAPL")]


# ---- missing_partitions_sensor ---------------------------------------------------------


def store(database: Path, symbol: str, day: date, fetched_at: datetime) -> None:
    frame = bars(symbol, day).assign(fetched_at=pd.Timestamp(fetched_at))
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, frame)


def store_final(database: Path, symbol: str, days: list[date]) -> None:
    frames = [
        bars(symbol, d).assign(fetched_at=pd.Timestamp(session_close(d) + timedelta(minutes=20)))
        for d in days
    ]
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, pd.concat(frames))


@pytest.fixture
def two_symbols(instance: dg.DagsterInstance, duckdb_file: Path) -> dg.DagsterInstance:
    """AAPL lacks 2026-11-20; MSFT's 2026-11-24 was fetched before that session closed."""
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    store_final(duckdb_file, "AAPL", [d for d in LOOKBACK if d != date(2026, 11, 20)])
    store_final(duckdb_file, "MSFT", LOOKBACK)
    store(duckdb_file, "MSFT", date(2026, 11, 24), datetime(2026, 11, 24, 19, tzinfo=UTC))
    return instance


def test_only_missing_and_provisional_partitions_are_requested(
    two_symbols: dg.DagsterInstance,
) -> None:
    result = evaluate(sensors.missing_partitions_sensor, two_symbols)
    assert [span(r) for r in result.run_requests or []] == [
        ("2026-11-24|MSFT", "2026-11-24|MSFT"),  # newest first
        ("2026-11-20|AAPL", "2026-11-20|AAPL"),
    ]
    assert all(
        r.run_config == {"ops": {"intraday_prices": {"config": {"interval": "5m"}}}}
        for r in result.run_requests or []
    )


def test_short_sessions_are_requested_until_confirmed_and_grace_answers_until_final(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "KO"])
    tue, mon = date(2026, 11, 24), date(2026, 11, 23)
    for symbol in ("AAPL", "MSFT", "KO"):
        store_final(duckdb_file, symbol, LOOKBACK)
    later = session_close(tue) + timedelta(hours=1)
    for hours in range(3):  # three final short answers: confirmed (2 re-fetches allowed)
        short = (
            bars("AAPL", tue)
            .iloc[:60]
            .assign(fetched_at=pd.Timestamp(later + timedelta(hours=hours)))
        )
        WarehouseResource(path=str(duckdb_file)).write(INTRADAY_PRICES, short)
    short = bars("MSFT", tue).iloc[:60].assign(fetched_at=pd.Timestamp(later))  # once: pending
    WarehouseResource(path=str(duckdb_file)).write(INTRADAY_PRICES, short)
    store(duckdb_file, "KO", mon, session_close(mon) + timedelta(minutes=5))  # within grace
    result = evaluate(sensors.missing_partitions_sensor, instance)
    assert [span(r) for r in result.run_requests or []] == [
        ("2026-11-24|MSFT", "2026-11-24|MSFT"),
        ("2026-11-23|KO", "2026-11-23|KO"),
    ]


def test_nothing_stored_yet_is_one_run_for_everything(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    result = evaluate(sensors.missing_partitions_sensor, instance)
    # Retention keeps 30 days (from 2026-10-26): older days would be deleted again tonight.
    assert [span(r) for r in result.run_requests or []] == [("2026-10-26|AAPL", "2026-11-25|MSFT")]


def test_retention_bounds_what_is_repaired(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    monkeypatch.setenv("STOCK_PIPELINE_INTRADAY_RETENTION_DAYS", "7")
    result = evaluate(sensors.missing_partitions_sensor, instance)
    assert [span(r) for r in result.run_requests or []] == [("2026-11-18|AAPL", "2026-11-25|AAPL")]


def test_partitions_in_flight_are_not_requested_twice(two_symbols: dg.DagsterInstance) -> None:
    first = evaluate(sensors.missing_partitions_sensor, two_symbols)
    job = defs.resolve_job_def("intraday_prices_job")
    for request in first.run_requests or []:  # launched, still running
        two_symbols.create_run_for_job(
            job,
            tags=request.tags,
            run_config=request.run_config,
            status=dg.DagsterRunStatus.STARTED,
        )
    second = evaluate(sensors.missing_partitions_sensor, two_symbols, first.cursor)
    assert not second.run_requests
    assert "2 partition(s) being fetched" in (second.skip_message or "")
    for run in two_symbols.get_runs():  # the runs failed: ask again, under new run keys
        two_symbols.report_run_failed(run)
    third = evaluate(sensors.missing_partitions_sensor, two_symbols, second.cursor or first.cursor)
    assert [span(r) for r in third.run_requests or []] == [
        span(r) for r in first.run_requests or []
    ]
    assert {r.run_key for r in third.run_requests or []}.isdisjoint(
        r.run_key for r in first.run_requests or []
    )


def test_partitions_per_tick_are_bounded_newest_first(
    two_symbols: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_MISSING_MAX_PARTITIONS", "1")
    result = evaluate(sensors.missing_partitions_sensor, two_symbols)
    assert [span(r) for r in result.run_requests or []] == [("2026-11-24|MSFT", "2026-11-24|MSFT")]


def test_quarantined_symbols_are_not_repaired(two_symbols: dg.DagsterInstance) -> None:
    quarantine_symbol(two_symbols, "MSFT", "test", NOW)
    result = evaluate(sensors.missing_partitions_sensor, two_symbols)
    assert [span(r) for r in result.run_requests or []] == [("2026-11-20|AAPL", "2026-11-20|AAPL")]


def test_today_is_left_to_the_schedule_until_after_the_close(
    instance: dg.DagsterInstance, duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    today = date(2026, 11, 25)
    store_final(duckdb_file, "AAPL", [d for d in LOOKBACK if d != today])
    store(duckdb_file, "AAPL", today, datetime(2026, 11, 25, 20, 30, tzinfo=UTC))  # 15:30

    pin_clock(monkeypatch, datetime(2026, 11, 25, 20, 45, tzinfo=UTC))  # trading
    assert not evaluate(sensors.missing_partitions_sensor, instance).run_requests
    pin_clock(monkeypatch, datetime(2026, 11, 25, 21, 5, tzinfo=UTC))  # the close's own tick
    assert not evaluate(sensors.missing_partitions_sensor, instance).run_requests
    pin_clock(monkeypatch, datetime(2026, 11, 25, 21, 30, tzinfo=UTC))  # its fetch never came
    result = evaluate(sensors.missing_partitions_sensor, instance)
    assert [span(r) for r in result.run_requests or []] == [("2026-11-25|AAPL", "2026-11-25|AAPL")]
    store(duckdb_file, "AAPL", today, datetime(2026, 11, 25, 21, 31, tzinfo=UTC))  # now final
    pin_clock(monkeypatch, datetime(2026, 11, 25, 21, 40, tzinfo=UTC))
    assert not evaluate(sensors.missing_partitions_sensor, instance).run_requests


def test_late_evening_new_york_asks_nothing_of_the_next_utc_day(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    pin_clock(monkeypatch, datetime(2026, 11, 25, 2, 30, tzinfo=UTC))  # 11-24 21:30 New York
    result = evaluate(sensors.missing_partitions_sensor, instance)
    ((_first, last),) = [span(r) for r in result.run_requests or []]
    assert last == "2026-11-24|AAPL"


HOLD_WRITE = """
import sys, time
from stock_pipeline.warehouse.tables import connect
with connect(sys.argv[1]) as con:
    con.begin()
    con.execute("DELETE FROM intraday_prices")
    print("ok", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def busy_warehouse(duckdb_file: Path) -> Iterator[None]:
    """Another process in the middle of a write transaction, as a running sync would be."""
    WarehouseResource(path=str(duckdb_file)).write(
        INTRADAY_PRICES, bars("AAPL", date(2026, 11, 24)).assign(fetched_at=pd.Timestamp(NOW))
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(duckdb_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_write_in_progress_does_not_stop_the_sensor(
    instance: dg.DagsterInstance, busy_warehouse: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    monkeypatch.setattr(sensors, "WAREHOUSE_WAIT_SECONDS", 0.3)
    result = evaluate(sensors.missing_partitions_sensor, instance)
    # The sensor reads the last committed snapshot (the uncommitted DELETE is invisible):
    # it asks for the missing sessions and not for the stored one.
    requested = {key for r in result.run_requests or [] for key in span(r)}
    assert result.run_requests and not result.skip_message
    assert "2026-11-24|AAPL" not in requested


# ---- current_prices_sensor -------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "why"),
    [
        (datetime(2026, 11, 26, 16, tzinfo=UTC), "2026-11-26: NYSE closed (Thanksgiving)"),
        (datetime(2026, 11, 27, 18, 30, tzinfo=UTC), "13:30: outside market hours (09:30–13:00)"),
        (datetime(2026, 11, 25, 2, 30, tzinfo=UTC), "2026-11-24 21:30: outside market hours"),
        (datetime(2026, 11, 24, 14, 31, tzinfo=UTC), "market_open_schedule"),  # 09:31
    ],
)
def test_quotes_are_not_refreshed_outside_market_hours(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch, instant: datetime, why: str
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    pin_clock(monkeypatch, instant)
    result = evaluate(sensors.current_prices_sensor, instance)
    assert not result.run_requests and why in (result.skip_message or "")


def test_quotes_refresh_once_per_slot_while_open(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    pin_clock(monkeypatch, datetime(2026, 11, 24, 15, 1, tzinfo=UTC))  # 10:01: slot 6
    first = evaluate(sensors.current_prices_sensor, instance)
    (request,) = first.run_requests or []
    assert request.run_key == "current_prices_sensor:2026-11-24/5m/6"
    pin_clock(monkeypatch, datetime(2026, 11, 24, 15, 4, tzinfo=UTC))  # same slot
    assert not evaluate(sensors.current_prices_sensor, instance, first.cursor).run_requests
    pin_clock(monkeypatch, datetime(2026, 11, 24, 15, 5, tzinfo=UTC))  # 10:05: the next one
    (nxt,) = evaluate(sensors.current_prices_sensor, instance, first.cursor).run_requests or []
    assert nxt.run_key == "current_prices_sensor:2026-11-24/5m/7"


def test_the_quote_interval_is_configurable(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    pin_clock(monkeypatch, datetime(2026, 11, 24, 15, 1, tzinfo=UTC))
    monkeypatch.setenv("STOCK_PIPELINE_CURRENT_PRICES_MINUTES", "15")
    (request,) = evaluate(sensors.current_prices_sensor, instance).run_requests or []
    assert request.run_key == "current_prices_sensor:2026-11-24/15m/2"
    monkeypatch.setenv("STOCK_PIPELINE_CURRENT_PRICES_MINUTES", "soon")
    with pytest.raises(ValueError, match="STOCK_PIPELINE_CURRENT_PRICES_MINUTES"):
        evaluate(sensors.current_prices_sensor, instance)
