"""Planning and running syncs through Dagster: the seed's management commands, as runs.

A sync names symbols, an interval and dates; it becomes the partitions still to fetch
(complete ones are skipped unless forced), then as few Dagster runs as ranges allow, each
recorded on the instance so it shows in the UI.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb

from stock_pipeline import settings
from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import InvalidDateRangeError, InvalidSymbolError
from stock_pipeline.domain.intervals import intraday_spec, normalize_history_interval
from stock_pipeline.domain.partition_keys import (
    HISTORY_FIRST_YEAR,
    history_key,
    intraday_key,
    intraday_window_start,
    symbol_of,
)
from stock_pipeline.domain.planning import (
    check_lookback,
    cover_with_rectangles,
    plan_intraday_windows,
)
from stock_pipeline.domain.run_keys import (
    DAILY_OP,
    INTERVAL_TAG,
    INTRADAY_OP,
    ORIGIN_TAG,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    price_run_config,
)
from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    expected_bar_count,
    latest_session,
    sessions_between,
    year_final_after,
)
from stock_pipeline.domain.weeks import WEEK_INTERVAL, history_span, week_of
from stock_pipeline.services.registry import registered_symbols
from stock_pipeline.services.run_owner import owner_tags
from stock_pipeline.services.run_report import RunReport, read_run_report
from stock_pipeline.settings import automation as knobs
from stock_pipeline.warehouse.completeness import slice_states
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect

ONE_OFF_REQUESTS = 2  # cookie and crumb, once per run process
T = TypeVar("T")


@dataclass(frozen=True)
class RunSlice:
    """One Dagster run: a rectangle of partitions given by its first and last key."""

    first_key: str
    last_key: str
    keys: tuple[str, ...]

    def tags(self) -> dict[str, str]:
        if self.first_key == self.last_key:
            return {PARTITION_TAG: self.first_key}
        return {RANGE_START_TAG: self.first_key, RANGE_END_TAG: self.last_key}


@dataclass
class SyncPlan:
    asset: str  # intraday_prices or daily_prices
    job: str
    interval: str
    symbols: list[str]
    todo: list[str]
    skipped: list[str]
    runs: list[RunSlice]
    expected_bars: int | None
    price_requests: int
    run_config: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> list[str]:
        # An intraday skip is a complete session or a short one Yahoo confirmed.
        settled = "complete or confirmed short" if self.asset == "intraday_prices" else "complete"
        lines = [
            f"{self.asset} at {self.interval}: {len(self.todo)} partition(s) to fetch for "
            f"{len(self.symbols)} symbol(s), {len(self.skipped)} already {settled} (skipped)",
            f"Dagster runs: {len(self.runs)}; Yahoo price requests: {self.price_requests} "
            f"(+ about {ONE_OFF_REQUESTS} cookie/crumb per run and one timezone look-up per "
            f"symbol new to this machine)",
        ]
        if self.expected_bars is not None:
            lines.append(f"bars expected from the NYSE calendar: {self.expected_bars}")
        for run in self.runs:
            lines.append(f"  run: {run.first_key} … {run.last_key} ({len(run.keys)} partitions)")
        return lines


def slice_runs(
    cells: Sequence[tuple[str, T]],
    symbol_order: Sequence[str],
    dates: Sequence[T],
    key: Callable[[str, T], str],
    batch_size: int | None = None,
) -> list[RunSlice]:
    """Cover (symbol, date) partitions with as few key-range runs as Dagster allows.

    ``symbol_order`` is the registration order (Dagster's order for ranges over dynamic
    partitions); ``dates`` are consecutive in the date dimension.
    """
    sym_pos = {s: i for i, s in enumerate(symbol_order)}
    date_pos = {d: i for i, d in enumerate(dates)}
    rects = cover_with_rectangles([(sym_pos[s], date_pos[d]) for s, d in cells], batch_size)
    return [
        RunSlice(
            key(symbol_order[r.first_symbol], dates[r.first_date]),
            key(symbol_order[r.last_symbol], dates[r.last_date]),
            tuple(
                key(symbol_order[i], dates[j])
                for i in range(r.first_symbol, r.last_symbol + 1)
                for j in range(r.first_date, r.last_date + 1)
            ),
        )
        for r in rects
    ]


def resolve_symbols(
    instance: dg.DagsterInstance, symbols: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Requested symbols in registration order, and that order itself."""
    registered = registered_symbols(instance)
    if not registered:
        raise InvalidSymbolError(
            "no symbols are registered: add some with `stock-pipeline symbols add AAPL,MSFT`"
        )
    if symbols is None:
        return registered, registered
    unknown = [s for s in symbols if s not in registered]
    if unknown:
        raise InvalidSymbolError(
            f"not registered: {', '.join(unknown)}; add them first with "
            f"`stock-pipeline symbols add {','.join(unknown)}`"
        )
    wanted = set(symbols)
    return [s for s in registered if s in wanted], registered


def intraday_days(start: date | None, end: date | None, interval: str, now: datetime) -> list[date]:
    """Trading days of a sync: start..end (end defaults to the latest session), checked
    against the calendar, the intraday partition window and Yahoo's lookback."""
    latest = latest_session(now)
    if start is None:
        start = end or latest
    end = end or latest
    if start > end:
        raise InvalidDateRangeError(f"start date {start} is after end date {end}")
    today = now.astimezone(NEW_YORK).date()
    if start > today:
        raise InvalidDateRangeError(f"{start} is in the future; the latest session is {latest}")
    days = sessions_between(start, min(end, today))
    if not days:
        raise InvalidDateRangeError(
            f"no NYSE trading day between {start} and {end} (weekend or holiday); the latest "
            f"session is {latest}"
        )
    window_days = settings.intraday_window_days()
    first_partition = intraday_window_start(now.date(), window_days)
    if days[0] < first_partition:
        raise InvalidDateRangeError(
            f"{days[0]} is before the first intraday partition ({first_partition}); intraday "
            f"partitions cover the sessions of the last {window_days} days "
            f"(${settings.INTRADAY_WINDOW_DAYS_ENV}); use sync-historical for older daily bars"
        )
    check_lookback(days[0], interval, now)
    return days


def plan_intraday(
    instance: dg.DagsterInstance,
    database: Lake | Path,
    symbols: Sequence[str] | None,
    interval: str,
    days: Sequence[date],
    force: bool,
    batch_size: int | None = None,
) -> SyncPlan:
    interval = intraday_spec(interval).interval
    chosen, order = resolve_symbols(instance, symbols)
    if force or not database.exists():
        todo_cells = [(s, d) for s in chosen for d in days]
        skipped: list[str] = []
    else:
        with connect(database, read_only=True) as con:
            states = slice_states(con, chosen, list(days), interval, knobs.final_grace())
        # Short sessions are fetched again until complete or confirmed (slice_state).
        todo_cells = [(st.symbol, st.day) for st in states if not st.settled]
        skipped = [intraday_key(st.symbol, st.day) for st in states if st.settled]
    runs = slice_runs(todo_cells, order, list(days), intraday_key, batch_size)
    windows = plan_intraday_windows(todo_cells, interval)
    return SyncPlan(
        asset="intraday_prices",
        job="intraday_prices_job",
        interval=interval,
        symbols=chosen,
        todo=[intraday_key(s, d) for s, d in todo_cells],
        skipped=skipped,
        runs=runs,
        expected_bars=sum(expected_bar_count(d, interval) for _, d in todo_cells),
        price_requests=len(windows),
        run_config=price_run_config(INTRADAY_OP, interval),
    )


def history_years(
    period: str | None, start: date | None, end: date | None, today: date, interval: str = "1d"
) -> list[int]:
    """The year partitions a period or date range covers; for weekly bars, the years of
    the weeks holding ``start`` and ``end`` (2025-01-02 is in 2024's week of 2024-12-30)."""
    if period is not None and (start or end):
        raise InvalidDateRangeError("give either --period or --start-date/--end-date, not both")
    if period is not None:
        back = {"1y": 1, "2y": 2, "5y": 5, "max": today.year - HISTORY_FIRST_YEAR}[period]
        # Weekly: up to the year of this week's Monday (none of 2026's weeks has begun on
        # Friday 2026-01-02; that day is in 2025's last week).
        last_year = week_of(today).year if interval == WEEK_INTERVAL else today.year
        return list(range(today.year - back, last_year + 1))
    if start is None or end is None:
        raise InvalidDateRangeError(
            "give --period (1y 2y 5y max) or both --start-date and --end-date"
        )
    if start > end:
        raise InvalidDateRangeError(f"start date {start} is after end date {end}")
    if start > today:
        raise InvalidDateRangeError(f"{start} is in the future")
    if end.year < HISTORY_FIRST_YEAR:
        raise InvalidDateRangeError(
            f"{start} … {end} is before {HISTORY_FIRST_YEAR}, the first year of the daily "
            f"history partitions; give dates from {HISTORY_FIRST_YEAR}-01-01 on"
        )
    first, last = start, min(end, today)
    if interval == WEEK_INTERVAL:
        first, last = week_of(first), week_of(last)
    return list(range(max(first.year, HISTORY_FIRST_YEAR), last.year + 1))


def stored_years(
    con: duckdb.DuckDBPyConnection,
    symbols: Sequence[str],
    interval: str,
    years: Sequence[int],
    grace: timedelta,
) -> dict[tuple[str, int], bool]:
    """Stored (symbol, year) partitions, each with whether it is final: its answer arrived
    at or after the close of the year's last session plus ``grace``, so nothing in it can
    change any more. A year fetched before that (the current one, or Dec 31 at 16:00) is
    not, and is fetched again."""
    if not symbols or not years:
        return {}
    rows = con.execute(
        """SELECT symbol, year, min(fetched_at) FROM daily_prices
           WHERE interval = ? AND symbol IN (SELECT unnest(?)) AND year IN (SELECT unnest(?))
           GROUP BY symbol, year""",
        [interval, list(symbols), list(years)],
    ).fetchall()
    return {
        (str(symbol), int(year)): arrived is not None
        and arrived >= year_final_after(int(year), grace, history_span(int(year), interval)[1])
        for symbol, year, arrived in rows
    }


def final_years(
    con: duckdb.DuckDBPyConnection,
    symbols: Sequence[str],
    interval: str,
    years: Sequence[int],
    grace: timedelta,
) -> set[tuple[str, int]]:
    """The stored (symbol, year) partitions that are final (``stored_years``)."""
    return {
        cell for cell, final in stored_years(con, symbols, interval, years, grace).items() if final
    }


def plan_history(
    instance: dg.DagsterInstance,
    database: Lake | Path,
    symbols: Sequence[str] | None,
    interval: str,
    years: Sequence[int],
    force: bool,
    batch_size: int | None = None,
) -> SyncPlan:
    interval = normalize_history_interval(interval)
    chosen, order = resolve_symbols(instance, symbols)
    done: set[tuple[str, int]] = set()
    if not force and database.exists():
        with connect(database, read_only=True) as con:
            done = final_years(con, chosen, interval, years, knobs.final_grace())
    todo_cells = [(s, y) for s in chosen for y in years if (s, y) not in done]
    skipped = [history_key(s, y) for s in chosen for y in years if (s, y) in done]
    runs = slice_runs(todo_cells, order, list(years), history_key, batch_size)
    return SyncPlan(
        asset="daily_prices",
        job="daily_prices_job",
        interval=interval,
        symbols=chosen,
        todo=[history_key(s, y) for s, y in todo_cells],
        skipped=skipped,
        runs=runs,
        expected_bars=None,
        price_requests=sum(len({symbol_of(k) for k in run.keys}) for run in runs),
        run_config=price_run_config(DAILY_OP, interval),
    )


QUIET_CONSOLE = {"console": {"config": {"log_level": "WARNING"}}}


def run_config_with(plan: SyncPlan, yahoo: dict[str, Any] | None) -> dict[str, Any]:
    """The plan's run config; the console shows warnings only (the UI keeps every log)."""
    config: dict[str, Any] = {**plan.run_config, "loggers": QUIET_CONSOLE}
    if yahoo:
        config["resources"] = {"yahoo": {"config": yahoo}}
    return config


def execute_plan(
    instance: dg.DagsterInstance,
    plan: SyncPlan,
    defs: dg.Definitions,
    yahoo: dict[str, Any] | None = None,
    on_run: Callable[[RunSlice, RunReport], None] | None = None,
    origin: str = "cli",
    on_start: Callable[[RunSlice, str], None] | None = None,
) -> list[RunReport]:
    """Run each slice of the plan in this process, recorded on the instance.

    ``on_start`` hears each run's id before it starts (to follow its live progress). Each
    run names this process as its owner (``run_owner``): if the process dies, the next
    command marks the run failed instead of leaving it "started" forever.
    """
    job = defs.resolve_job_def(plan.job)
    reports = []
    for run in plan.runs:
        stopping.check()  # a stop between runs starts no new one
        run_id = str(uuid.uuid4())  # Dagster's own run ids are uuid4 strings
        if on_start:
            on_start(run, run_id)
        result = job.execute_in_process(
            instance=instance,
            run_config=run_config_with(plan, yahoo),
            raise_on_error=False,
            tags={
                **run.tags(),
                INTERVAL_TAG: plan.interval,
                ORIGIN_TAG: origin,
                **owner_tags(),
            },
            run_id=run_id,
        )
        report = read_run_report(instance, result.run_id)
        reports.append(report)
        if on_run:
            on_run(run, report)
    return reports
