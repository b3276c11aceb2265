"""Schedules evaluated by Dagster itself at the instants the daemon would tick.

The tick instants come from Dagster's own cron iterator (the daemon's), so the crons and
``execution_timezone`` are tested together with the calendar decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator  # the daemon's ticks

from stock_pipeline.definitions import defs
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.defs.schedules import (
    corporate_actions_schedule,
    intraday_hourly_schedule,
    market_close_schedule,
    market_open_schedule,
    reverify_schedule,
)
from stock_pipeline.domain.market_schedule import ny_clock
from stock_pipeline.domain.run_keys import ORIGIN_TAG
from stock_pipeline.domain.trading_calendar import NEW_YORK
from stock_pipeline.warehouse.tables import DAILY_PRICES
from stock_pipeline_tests.support.frames import daily_row
from stock_pipeline_tests.support.pipeline import Pipeline
from stock_pipeline_tests.support.quarantine import quarantine_symbol

if TYPE_CHECKING:
    from dagster._core.definitions.schedule_definition import ScheduleExecutionData

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
INTRADAY_5M = {"ops": {"intraday_prices": {"config": {"interval": "5m"}}}}


def ticks(schedule: dg.ScheduleDefinition, day: date) -> list[datetime]:
    """The instants the daemon evaluates ``schedule`` at during New York day ``day``."""
    start = datetime.combine(day, time(0), tzinfo=NEW_YORK)
    end = datetime.combine(day, time(23, 59), tzinfo=NEW_YORK)
    found = []
    for instant in schedule_execution_time_iterator(
        start.timestamp(), schedule.cron_schedule, schedule.execution_timezone
    ):
        if instant > end:
            return found
        found.append(instant)
    raise AssertionError("unreachable: the iterator is infinite")


def evaluate(
    schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, instant: datetime
) -> ScheduleExecutionData:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=instant)
    return schedule.evaluate_tick(context)


def ranges(result: ScheduleExecutionData) -> list[tuple[str, str]]:
    found = []
    for request in result.run_requests or []:
        tags = request.tags
        if "dagster/partition" in tags:
            found.append((tags["dagster/partition"], tags["dagster/partition"]))
        else:
            found.append((tags[RANGE_START], tags[RANGE_END]))
    return found


@pytest.fixture
def registered(instance: dg.DagsterInstance) -> dg.DagsterInstance:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "IBM"])
    return instance


def outcomes(
    schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, day: date
) -> dict[str, ScheduleExecutionData]:
    return {ny_clock(t): evaluate(schedule, instance, t) for t in ticks(schedule, day)}


def run_times(results: dict[str, ScheduleExecutionData]) -> list[str]:
    return [clock for clock, result in results.items() if result.run_requests]


def test_hourly_sync_runs_at_the_seven_bar_closes_of_a_full_day(
    registered: dg.DagsterInstance,
) -> None:
    results = outcomes(intraday_hourly_schedule, registered, date(2026, 11, 24))
    assert list(results) == ["10:30", "11:30", "12:30", "13:00", "13:30", "14:30", "15:30", "16:00"]
    assert run_times(results) == ["10:30", "11:30", "12:30", "13:30", "14:30", "15:30", "16:00"]
    assert "no hourly bar closes then" in (results["13:00"].skip_message or "")
    keys = set()
    for clock in run_times(results):
        (request,) = results[clock].run_requests or []
        # One run for every symbol: today's partition, AAPL … IBM in registration order.
        assert ranges(results[clock]) == [("2026-11-24|AAPL", "2026-11-24|IBM")]
        assert request.run_config == INTRADAY_5M
        keys.add(request.run_key)
    assert len(keys) == 7  # a run key per tick


def test_hourly_sync_runs_four_times_on_an_early_close(registered: dg.DagsterInstance) -> None:
    results = outcomes(intraday_hourly_schedule, registered, date(2026, 11, 27))
    assert run_times(results) == ["10:30", "11:30", "12:30", "13:00"]
    for clock in ["13:30", "14:30", "15:30", "16:00"]:
        assert results[clock].skip_message == (
            f"2026-11-27 {clock}: the session closed at 13:00 (early close)"
        )
    assert ranges(results["13:00"]) == [("2026-11-27|AAPL", "2026-11-27|IBM")]


@pytest.mark.parametrize(
    "schedule", [intraday_hourly_schedule, market_open_schedule, market_close_schedule]
)
def test_every_schedule_skips_thanksgiving_with_the_reason(
    registered: dg.DagsterInstance, schedule: dg.ScheduleDefinition
) -> None:
    results = outcomes(schedule, registered, date(2026, 11, 26))
    assert results  # the crons do fire on the holiday …
    for result in results.values():  # … and each tick says why nothing runs
        assert not result.run_requests
        assert result.skip_message == "2026-11-26: NYSE closed (Thanksgiving)"


@pytest.mark.parametrize(
    ("day", "open_utc", "first_hourly_utc"),
    [
        (date(2026, 3, 6), datetime(2026, 3, 6, 14, 30, tzinfo=UTC), "15:30"),
        (date(2026, 3, 9), datetime(2026, 3, 9, 13, 30, tzinfo=UTC), "14:30"),
        (date(2026, 10, 30), datetime(2026, 10, 30, 13, 30, tzinfo=UTC), "14:30"),
        (date(2026, 11, 2), datetime(2026, 11, 2, 14, 30, tzinfo=UTC), "15:30"),
    ],
)
def test_daylight_saving_weeks_open_at_09_30_new_york(
    registered: dg.DagsterInstance, day: date, open_utc: datetime, first_hourly_utc: str
) -> None:
    (open_tick,) = ticks(market_open_schedule, day)
    assert open_tick == open_utc
    assert ranges(evaluate(market_open_schedule, registered, open_tick)) == [
        (f"{day}|AAPL", f"{day}|IBM")
    ]
    hourly = ticks(intraday_hourly_schedule, day)
    assert ny_clock(hourly[0]) == "10:30"
    assert hourly[0].astimezone(UTC).strftime("%H:%M") == first_hourly_utc
    assert ranges(evaluate(intraday_hourly_schedule, registered, hourly[0])) == [
        (f"{day}|AAPL", f"{day}|IBM")
    ]
    assert ny_clock(hourly[-1]) == "16:00"
    assert evaluate(intraday_hourly_schedule, registered, hourly[-1]).run_requests


def test_late_evening_in_new_york_is_not_the_next_utc_day(registered: dg.DagsterInstance) -> None:
    evening = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 2026-11-24 21:30 New York
    for schedule in (intraday_hourly_schedule, market_open_schedule, market_close_schedule):
        result = evaluate(schedule, registered, evening)
        assert not result.run_requests
        assert (result.skip_message or "").startswith("2026-11-24 21:30")


def test_quarantined_symbols_are_left_out_in_few_ranges(registered: dg.DagsterInstance) -> None:
    registered.add_dynamic_partitions("symbols", ["ZZDEAD", "KO", "PEP"])
    quarantine_symbol(registered, "MSFT", "test", datetime(2026, 11, 20, tzinfo=UTC))
    result = evaluate(
        intraday_hourly_schedule, registered, datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    )
    assert ranges(result) == [
        ("2026-11-24|AAPL", "2026-11-24|AAPL"),
        ("2026-11-24|IBM", "2026-11-24|PEP"),
    ]
    assert len({r.run_key for r in result.run_requests or []}) == 2


def test_nothing_registered_is_a_skip_with_the_fix(instance: dg.DagsterInstance) -> None:
    result = evaluate(
        intraday_hourly_schedule, instance, datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    )
    assert not result.run_requests
    assert "stock-pipeline symbols add" in (result.skip_message or "")


def test_market_open_fetches_quotes_once_and_intraday_for_every_range(
    registered: dg.DagsterInstance,
) -> None:
    quarantine_symbol(registered, "MSFT", "test", datetime(2026, 11, 20, tzinfo=UTC))
    result = evaluate(market_open_schedule, registered, datetime(2026, 11, 24, 14, 30, tzinfo=UTC))
    first, second = result.run_requests or []
    assert first.asset_selection is None  # the whole job: quotes and intraday
    assert second.asset_selection == [dg.AssetKey("intraday_prices")]
    assert ranges(result) == [
        ("2026-11-24|AAPL", "2026-11-24|AAPL"),
        ("2026-11-24|IBM", "2026-11-24|IBM"),
    ]
    assert not evaluate(
        market_open_schedule, registered, datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    ).run_requests


def test_market_close_requests_the_day_s_daily_bar_at_the_real_close(
    registered: dg.DagsterInstance,
) -> None:
    full = outcomes(market_close_schedule, registered, date(2026, 11, 24))
    assert run_times(full) == ["16:00"]
    assert full["13:00"].skip_message == "2026-11-24 13:00: the session closes at 16:00"
    (request,) = full["16:00"].run_requests or []
    assert ranges(full["16:00"]) == [("2026|AAPL", "2026|IBM")]
    assert request.run_config == {"ops": {"daily_prices": {"config": {"interval": "1d"}}}}
    early = outcomes(market_close_schedule, registered, date(2026, 11, 27))
    assert run_times(early) == ["13:00"]


def execute(
    instance: dg.DagsterInstance, job_name: str, requests: Sequence[dg.RunRequest]
) -> list[dg.ExecuteInProcessResult]:
    """Run the requests as the daemon would: the job, its tags, config and selection."""
    job = defs.resolve_job_def(job_name)
    return [
        job.execute_in_process(
            instance=instance,
            run_config=request.run_config,
            tags=request.tags,
            asset_selection=request.asset_selection,
        )
        for request in requests
    ]


def test_the_open_and_close_ticks_materialize_what_they_request(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "MSFT", "IBM"])
    quarantine_symbol(pipeline.instance, "MSFT", "test", datetime(2026, 11, 20, tzinfo=UTC))
    open_tick = evaluate(
        market_open_schedule, pipeline.instance, datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    )
    assert all(
        r.success
        for r in execute(pipeline.instance, "market_open_job", open_tick.run_requests or [])
    )
    assert pipeline.materialized("intraday_prices") == {"2026-11-25|AAPL", "2026-11-25|IBM"}
    quotes = pipeline.instance.get_latest_materialization_event(dg.AssetKey("current_prices"))
    assert quotes is not None
    # Quotes once, for the first range only.
    assert (
        len(
            pipeline.instance.fetch_materializations(
                dg.AssetKey("current_prices"), limit=10
            ).records
        )
        == 1
    )
    close_tick = evaluate(
        market_close_schedule, pipeline.instance, datetime(2026, 11, 25, 21, tzinfo=UTC)
    )
    assert all(
        r.success
        for r in execute(pipeline.instance, "daily_prices_job", close_tick.run_requests or [])
    )
    assert pipeline.materialized("daily_prices") == {"2026|AAPL", "2026|IBM"}


def test_corporate_actions_are_refreshed_once_after_each_close(
    registered: dg.DagsterInstance,
) -> None:
    full = outcomes(corporate_actions_schedule, registered, date(2026, 11, 24))
    assert run_times(full) == ["16:20"]
    (request,) = full["16:20"].run_requests or []
    assert request.run_key == "corporate_actions_schedule:2026-11-24T16:20:00-05:00"
    early = outcomes(corporate_actions_schedule, registered, date(2026, 11, 27))
    assert run_times(early) == ["13:20"]
    holiday = outcomes(corporate_actions_schedule, registered, date(2026, 11, 26))
    assert run_times(holiday) == []


def store_last_day(database: Path, symbol: str, fetched: datetime) -> None:
    row = daily_row(symbol, date(2026, 12, 31))
    WarehouseResource(path=str(database)).write(DAILY_PRICES, row, {"fetched_at": fetched})


def test_the_first_close_of_a_year_refreshes_last_year_where_it_is_not_final(
    registered: dg.DagsterInstance, duckdb_file: Path
) -> None:
    """AAPL's 2026 was fetched at 16:00 on Dec 31 (within the grace period), IBM's on New
    Year's Day, MSFT has none: only AAPL's 2026 is fetched again, beside 2027 for all."""
    store_last_day(duckdb_file, "AAPL", datetime(2026, 12, 31, 21, 0, tzinfo=UTC))
    store_last_day(duckdb_file, "IBM", datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    first_close = datetime(2027, 1, 4, 16, 0, tzinfo=NEW_YORK)  # Jan 1 is a holiday
    result = evaluate(market_close_schedule, registered, first_close)
    # Two runs: AAPL's two years (one Yahoo request), the other symbols' 2027.
    assert sorted(ranges(result)) == [("2026|AAPL", "2027|AAPL"), ("2027|MSFT", "2027|IBM")]
    store_last_day(duckdb_file, "AAPL", datetime(2027, 1, 4, 21, 0, tzinfo=UTC))  # that run
    next_close = datetime(2027, 1, 5, 16, 0, tzinfo=NEW_YORK)
    assert ranges(evaluate(market_close_schedule, registered, next_close)) == [
        ("2027|AAPL", "2027|IBM")
    ]


def test_reverification_runs_once_a_week_on_saturday_morning(
    registered: dg.DagsterInstance,
) -> None:
    saturday = outcomes(reverify_schedule, registered, date(2026, 11, 28))
    assert run_times(saturday) == ["07:00"]
    (request,) = saturday["07:00"].run_requests or []
    assert request.run_key == "reverify_schedule:2026-11-28T07:00:00-05:00"
    assert request.tags[ORIGIN_TAG] == "schedule"
    for weekday in (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 29)):
        assert ticks(reverify_schedule, weekday) == []  # Saturdays only
    assert defs.resolve_schedule_def("reverify_schedule").job_name == "reverify_job"


def test_reverification_by_hand_waits_for_the_close_and_for_symbols(
    instance: dg.DagsterInstance,
) -> None:
    empty = evaluate(reverify_schedule, instance, datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert "no symbols registered" in (empty.skip_message or "")
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    trading = evaluate(reverify_schedule, instance, datetime(2026, 11, 24, 16, tzinfo=UTC))
    assert "the session is trading" in (trading.skip_message or "")
    assert "16:00" in (trading.skip_message or "")
    after = evaluate(reverify_schedule, instance, datetime(2026, 11, 24, 22, tzinfo=UTC))
    assert len(after.run_requests or []) == 1
