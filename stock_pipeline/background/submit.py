"""Submitting syncs to the Dagster run queue: the seed's ``task.delay(...)``.

Each call plans exactly like the command line (complete partitions skipped unless forced,
as few runs as ranges allow, ``batch_size`` symbols per run at most) and queues the runs
on the instance at ``DAGSTER_HOME`` for ``dagster-daemon`` to launch; it returns at once
with a ``SyncHandle``. Eager mode (``eager=True`` or ``STOCK_PIPELINE_EAGER=1``, the seed's
``CELERY_TASK_ALWAYS_EAGER``) runs the same runs in this process instead and returns a
finished handle: for notebooks and tests, no daemon needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.background.handle import SyncHandle
from stock_pipeline.background.queue import RunSpec, enqueue_runs
from stock_pipeline.defs.jobs import current_prices_job
from stock_pipeline.domain import arguments
from stock_pipeline.domain.errors import InvalidDateRangeError
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    normalize_history_interval,
    normalize_intraday_interval,
    normalize_period,
)
from stock_pipeline.domain.symbols import parse_symbols
from stock_pipeline.services.run_progress import (
    progress_enabled,
    progress_path,
    queued_progress,
    write_progress,
)
from stock_pipeline.services.sync import (
    INTERVAL_TAG,
    ORIGIN_TAG,
    QUIET_CONSOLE,
    SyncPlan,
    execute_plan,
    history_years,
    intraday_days,
    plan_history,
    plan_intraday,
    resolve_symbols,
    run_config_with,
)
from stock_pipeline.warehouse.lake import Lake

EAGER_ENV = "STOCK_PIPELINE_EAGER"
ORIGIN = "background"
_TRUE = {"1", "true", "yes", "on"}

DateLike = date | str | None
Symbols = Sequence[str] | str | None


def eager_by_default() -> bool:
    """Whether ``STOCK_PIPELINE_EAGER`` asks every submission to run in this process."""
    return os.environ.get(EAGER_ENV, "").strip().lower() in _TRUE


def _eager(eager: bool | None) -> bool:
    return eager_by_default() if eager is None else eager


def yahoo_config(delay: float | None) -> dict[str, Any]:
    """Yahoo resource config for the seed's ``delay``: minimum seconds between requests.

    A gap the user asks for is a fixed pace: the ceiling is the start, so the rate does not
    climb (nor halve on a 429: the circuit breaker's cool-down handles those)."""
    arguments.check_delay(delay)
    if delay is None:
        return {}
    return {"requests_per_second": 1.0 / delay, "max_requests_per_second": 1.0 / delay}


def _date(value: DateLike) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidDateRangeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _symbols(value: Symbols) -> list[str] | None:
    return None if value is None else parse_symbols(value)


def _instance(instance: dg.DagsterInstance | None) -> dg.DagsterInstance:
    if instance is not None:
        return instance
    from stock_pipeline.services.instance import get_instance

    return get_instance()


def _check_common(
    symbols: Any,
    interval: Any,
    start: Any,
    end: Any,
    force: Any,
    batch_size: Any,
    delay: Any,
    eager: Any,
) -> None:
    """Every argument's type and range, before the instance is opened or anything planned."""
    arguments.check_symbols(symbols)
    arguments.check_text("interval", interval)
    arguments.check_day("start", start)
    arguments.check_day("end", end)
    arguments.check_flag("force", force)
    arguments.check_batch_size(batch_size)
    arguments.check_delay(delay)
    arguments.check_flag("eager", eager, optional=True)


def submit_plan(
    plan: SyncPlan,
    yahoo: dict[str, Any] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    eager: bool | None = None,
) -> SyncHandle:
    """Queue a plan's runs (or run them here when eager); a plan with no runs is done."""
    instance = _instance(instance)
    if not plan.runs:
        return SyncHandle([], instance, skipped=plan.skipped)
    if _eager(eager):
        from stock_pipeline.definitions import defs

        reports = execute_plan(instance, plan, defs, yahoo, origin=ORIGIN)
        return SyncHandle([r.run_id for r in reports], instance, skipped=plan.skipped)
    specs = [
        RunSpec(
            job_name=plan.job,
            run_config=run_config_with(plan, yahoo),
            tags={**run.tags(), INTERVAL_TAG: plan.interval, ORIGIN_TAG: ORIGIN},
        )
        for run in plan.runs
    ]
    run_ids = enqueue_runs(instance, specs)
    _publish_queued(plan, run_ids, yahoo)
    return SyncHandle(run_ids, instance, skipped=plan.skipped)


def _publish_queued(plan: SyncPlan, run_ids: Sequence[str], yahoo: dict[str, Any] | None) -> None:
    """Each queued run's totals, so ``handle.progress()`` knows them before the runs start."""
    if not progress_enabled():
        return
    from stock_pipeline.defs.resources import YahooFinanceResource

    rate = (yahoo or {}).get("requests_per_second") or YahooFinanceResource().requests_per_second
    for run_id, run in zip(run_ids, plan.runs, strict=True):
        if not progress_path(run_id).exists():  # a run the daemon started already wrote it
            write_progress(queued_progress(run_id, plan.asset, plan.interval, run.keys, rate))


def submit_intraday_sync(
    symbols: Symbols = None,
    interval: str = DEFAULT_INTRADAY_INTERVAL,
    start: DateLike = None,
    end: DateLike = None,
    force: bool = False,
    batch_size: int | None = None,
    delay: float | None = None,
    *,
    eager: bool | None = None,
    instance: dg.DagsterInstance | None = None,
) -> SyncHandle:
    """Intraday bars of (symbol, trading day) partitions; default: all symbols, latest session.

    The seed's ``sync_daily_intraday_data.delay(symbols=[...], interval='1m')``.
    """
    _check_common(symbols, interval, start, end, force, batch_size, delay, eager)
    instance = _instance(instance)
    interval = normalize_intraday_interval(interval)
    days = intraday_days(_date(start), _date(end), interval, settings.now())
    plan = plan_intraday(
        instance, Lake.from_settings(), _symbols(symbols), interval, days, force, batch_size
    )
    return submit_plan(plan, yahoo_config(delay), instance=instance, eager=eager)


def submit_symbol_sync(
    symbol: str,
    interval: str = DEFAULT_INTRADAY_INTERVAL,
    start: DateLike = None,
    end: DateLike = None,
    force: bool = False,
    delay: float | None = None,
    *,
    eager: bool | None = None,
    instance: dg.DagsterInstance | None = None,
) -> SyncHandle:
    """One symbol's intraday bars (seed: ``sync_single_stock_intraday.delay('AAPL')``)."""
    arguments.check_symbol(symbol)
    return submit_intraday_sync(
        [symbol], interval, start, end, force, delay=delay, eager=eager, instance=instance
    )


def submit_historical_sync(
    symbols: Symbols = None,
    period: str | None = None,
    start: DateLike = None,
    end: DateLike = None,
    interval: str = "1d",
    force: bool = False,
    batch_size: int | None = None,
    delay: float | None = None,
    *,
    eager: bool | None = None,
    instance: dg.DagsterInstance | None = None,
) -> SyncHandle:
    """Daily or weekly bars per (symbol, year); default: all symbols, one year back.

    The seed's ``sync_historical_data.delay(symbols=[...], period='2y', interval='1wk')``.
    """
    _check_common(symbols, interval, start, end, force, batch_size, delay, eager)
    arguments.check_text("period", period, optional=True)
    instance = _instance(instance)
    interval = normalize_history_interval(interval)
    first, last = _date(start), _date(end)
    if period is None and first is None and last is None:
        period = "1y"
    today = settings.now().date()
    years = history_years(
        normalize_period(period) if period else None, first, last, today, interval
    )
    plan = plan_history(
        instance,
        Lake.from_settings(),
        _symbols(symbols),
        interval,
        years,
        force,
        batch_size,
    )
    return submit_plan(plan, yahoo_config(delay), instance=instance, eager=eager)


def submit_current_prices(
    delay: float | None = None,
    *,
    eager: bool | None = None,
    instance: dg.DagsterInstance | None = None,
) -> SyncHandle:
    """The latest quote of every registered symbol (seed: ``sync_current_prices.delay()``)."""
    arguments.check_delay(delay)
    arguments.check_flag("eager", eager, optional=True)
    instance = _instance(instance)
    resolve_symbols(instance, None)  # a clear error now rather than a failed run later
    run_config: dict[str, Any] = {"loggers": QUIET_CONSOLE}
    yahoo = yahoo_config(delay)
    if yahoo:
        run_config["resources"] = {"yahoo": {"config": yahoo}}
    tags = {ORIGIN_TAG: ORIGIN}
    if _eager(eager):
        from stock_pipeline.definitions import defs

        result = defs.resolve_job_def(current_prices_job.name).execute_in_process(
            instance=instance, run_config=run_config, tags=tags, raise_on_error=False
        )
        return SyncHandle([result.run_id], instance)
    spec = RunSpec(job_name=current_prices_job.name, run_config=run_config, tags=tags)
    return SyncHandle(enqueue_runs(instance, [spec]), instance)
