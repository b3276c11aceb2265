"""Schedules on the NYSE calendar: the seed's Celery beat timings, made calendar-true.

Crons fire on New York wall-clock times every weekday (``execution_timezone`` keeps 09:30
at 09:30 across daylight saving); each tick then asks the calendar whether this instant is
really an open, an hourly bar close or the close, and otherwise skips with the reason
(holiday name, weekend, early close) shown in the UI. A tick covers every active symbol in
as few runs as registration order allows; quarantined symbols are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.defs.jobs import (
    corporate_actions_job,
    daily_prices_job,
    intraday_prices_job,
    market_open_job,
    reverify_job,
)
from stock_pipeline.defs.partitions import TIMEZONE
from stock_pipeline.defs.run_requests import (
    history_run_config,
    intraday_run_config,
    intraday_slices,
    run_request,
)
from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL
from stock_pipeline.domain.market_schedule import (
    TickDecision,
    decide_close,
    decide_hourly,
    decide_open,
    decide_weekly,
)
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.domain.run_keys import ORIGIN_TAG
from stock_pipeline.services.quarantine import active_symbols
from stock_pipeline.services.registry import registered_symbols
from stock_pipeline.services.sync import slice_runs, stored_years
from stock_pipeline.settings import automation as knobs
from stock_pipeline.warehouse.commits import BUSY_ERRORS
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect

INTRADAY_INTERVAL = DEFAULT_INTRADAY_INTERVAL
HISTORY_INTERVAL = "1d"
WAREHOUSE_WAIT_SECONDS = 10.0  # a tick must not wait out a long write
ORIGIN = "schedule"
WEEKDAYS = "1-5"
# Every hourly bar close on a full day (10:30 … 15:30, 16:00) or an early one (13:00).
HOURLY_CRONS = [f"30 10-15 * * {WEEKDAYS}", f"0 13 * * {WEEKDAYS}", f"0 16 * * {WEEKDAYS}"]
OPEN_CRON = f"30 9 * * {WEEKDAYS}"
CLOSE_CRONS = [f"0 13 * * {WEEKDAYS}", f"0 16 * * {WEEKDAYS}"]
ACTIONS_DELAY = timedelta(minutes=20)  # after the close's own runs, before the evening
ACTIONS_CRONS = [f"20 13 * * {WEEKDAYS}", f"20 16 * * {WEEKDAYS}"]
REVERIFY_CRON = "0 7 * * 6"  # Saturday 07:00 New York: the week's sessions have all closed

ScheduleResult = dg.SkipReason | list[dg.RunRequest]


def tick_instant(context: dg.ScheduleEvaluationContext) -> datetime:
    """The cron instant being evaluated (the clock when a tick is run by hand)."""
    return context.scheduled_execution_time or settings.now()


def active_or_skip(instance: dg.DagsterInstance) -> tuple[list[str], list[str]] | dg.SkipReason:
    """Registration order and the active (not quarantined) symbols, or why nothing runs."""
    order = registered_symbols(instance)
    if not order:
        return dg.SkipReason(
            "no symbols registered: add some with `stock-pipeline symbols add AAPL,MSFT`"
        )
    active = active_symbols(instance, order)
    if not active:
        return dg.SkipReason(
            "every registered symbol is quarantined (`stock-pipeline symbols quarantined`)"
        )
    return order, active


def _decided(
    context: dg.ScheduleEvaluationContext,
    decide: Callable[[datetime], TickDecision],
    instant: datetime,
) -> tuple[TickDecision, tuple[list[str], list[str]]] | dg.SkipReason:
    """What ``decide`` makes of ``instant`` and the symbols to sync, or why nothing runs."""
    decision = decide(instant)
    if decision.skip_reason:
        return dg.SkipReason(decision.skip_reason)
    symbols = active_or_skip(context.instance)
    if isinstance(symbols, dg.SkipReason):
        return symbols
    return decision, symbols


def _intraday_tick(
    context: dg.ScheduleEvaluationContext,
    decide: Callable[[datetime], TickDecision],
    name: str,
    first_only: list[dg.AssetKey] | None = None,
) -> ScheduleResult:
    instant = tick_instant(context)
    found = _decided(context, decide, instant)
    if isinstance(found, dg.SkipReason):
        return found
    decision, (order, active) = found
    runs = intraday_slices(order, [decision.day], [(s, decision.day) for s in active])
    return [
        run_request(
            run,
            run_key=f"{name}:{instant.isoformat()}",
            origin=ORIGIN,
            run_config=intraday_run_config(INTRADAY_INTERVAL),
            interval=INTRADAY_INTERVAL,
            # Later ranges of the open's run only need intraday bars: quotes are fetched once.
            asset_selection=first_only if i > 0 else None,
        )
        for i, run in enumerate(runs)
    ]


@dg.schedule(
    name="intraday_hourly_schedule",
    cron_schedule=HOURLY_CRONS,
    execution_timezone=TIMEZONE,
    job=intraday_prices_job,
    description=(
        "Today's 5-minute bars of every active symbol, each time an hourly bar closes: "
        "10:30, 11:30 … 15:30 and the 16:00 close (7 runs), or 10:30, 11:30, 12:30 and the "
        "13:00 close on early-close days (4). The tick at the close fetches every bar, but "
        "its answer is provisional until the grace period after the close "
        "($STOCK_PIPELINE_FINAL_GRACE_MINUTES, 15): missing_partitions_sensor fetches the "
        "final bars then. Holidays and weekends are skipped with the reason."
    ),
)
def intraday_hourly_schedule(context: dg.ScheduleEvaluationContext) -> ScheduleResult:
    return _intraday_tick(context, decide_hourly, "intraday_hourly_schedule")


@dg.schedule(
    name="market_open_schedule",
    cron_schedule=OPEN_CRON,
    execution_timezone=TIMEZONE,
    job=market_open_job,
    description=(
        "At the 09:30 open of each NYSE session: the latest quote of every registered symbol "
        "and the first (provisional) intraday sync of today's session. Skipped on holidays."
    ),
)
def market_open_schedule(context: dg.ScheduleEvaluationContext) -> ScheduleResult:
    return _intraday_tick(
        context, decide_open, "market_open_schedule", first_only=[dg.AssetKey("intraday_prices")]
    )


def unfinished_last_year(
    context: dg.ScheduleEvaluationContext, active: list[str], year: int
) -> list[str]:
    """Active symbols whose ``year`` of daily bars is stored but not final: fetched before
    that year's last close plus the grace period (its 16:00 Dec-31 close). The next close
    refreshes it once; then it is final. A busy warehouse leaves it to the next close."""
    database = Lake.from_settings()
    if not database.exists():
        return []
    try:
        with connect(database, read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS) as con:
            stored = stored_years(con, active, HISTORY_INTERVAL, [year], knobs.final_grace())
    except BUSY_ERRORS as exc:
        context.log.warning(f"{year}'s daily bars not checked for finality: {exc}")
        return []
    return [symbol for symbol in active if stored.get((symbol, year)) is False]


@dg.schedule(
    name="market_close_schedule",
    cron_schedule=CLOSE_CRONS,
    execution_timezone=TIMEZONE,
    job=daily_prices_job,
    description=(
        "At the close (16:00, or 13:00 on early-close days): the day's daily bar, by "
        "refreshing the current year's daily_prices partition of every active symbol, and "
        "last year's where it was fetched before that year's last close plus the grace "
        "period (the Dec-31 16:00 snapshot: refreshed once, on the year's first close). The "
        "intraday sync at the same instant is intraday_hourly_schedule's last tick."
    ),
)
def market_close_schedule(context: dg.ScheduleEvaluationContext) -> ScheduleResult:
    instant = tick_instant(context)
    found = _decided(context, decide_close, instant)
    if isinstance(found, dg.SkipReason):
        return found
    decision, (order, active) = found
    year = decision.day.year
    cells = [(s, year) for s in active]
    unfinished = unfinished_last_year(context, active, year - 1)
    cells += [(s, year - 1) for s in unfinished]
    years = [year - 1, year] if unfinished else [year]
    runs = slice_runs(cells, order, years, history_key)
    return [
        run_request(
            run,
            run_key=f"market_close_schedule:{instant.isoformat()}",
            origin=ORIGIN,
            run_config=history_run_config(HISTORY_INTERVAL),
            interval=HISTORY_INTERVAL,
        )
        for run in runs
    ]


@dg.schedule(
    name="corporate_actions_schedule",
    cron_schedule=ACTIONS_CRONS,
    execution_timezone=TIMEZONE,
    job=corporate_actions_job,
    description=(
        "20 minutes after each close (16:20, or 13:20 on early-close days): every split and "
        "dividend of every active symbol, one Yahoo request per symbol, so a new event is "
        "known within one trading day and the adjusted views follow it at once."
    ),
)
def corporate_actions_schedule(context: dg.ScheduleEvaluationContext) -> ScheduleResult:
    instant = tick_instant(context)
    found = _decided(context, decide_close, instant - ACTIONS_DELAY)
    if isinstance(found, dg.SkipReason):
        return found
    return [
        dg.RunRequest(
            run_key=f"corporate_actions_schedule:{instant.isoformat()}",
            tags={ORIGIN_TAG: ORIGIN},
        )
    ]


@dg.schedule(
    name="reverify_schedule",
    cron_schedule=REVERIFY_CRON,
    execution_timezone=TIMEZONE,
    job=reverify_job,
    description=(
        "Saturday 07:00 New York: every active symbol's stored daily history is fetched "
        "again (one Yahoo request per symbol) and compared with daily_prices_adjusted; "
        "differences show as the matches_yahoo warning on daily_prices and the affected "
        "years are stored again. Skipped (with the reason) while a session is trading."
    ),
)
def reverify_schedule(context: dg.ScheduleEvaluationContext) -> ScheduleResult:
    instant = tick_instant(context)
    found = _decided(context, decide_weekly, instant)
    if isinstance(found, dg.SkipReason):
        return found
    return [
        dg.RunRequest(
            run_key=f"reverify_schedule:{instant.isoformat()}",
            tags={ORIGIN_TAG: ORIGIN},
        )
    ]


SCHEDULES: list[dg.ScheduleDefinition] = [
    intraday_hourly_schedule,
    market_open_schedule,
    market_close_schedule,
    corporate_actions_schedule,
    reverify_schedule,
]
