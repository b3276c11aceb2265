"""symbols, sync-intraday, sync-historical: the seed's management commands, through Dagster."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the command line imports Dagster only where a command needs it
    import dagster as dg

    from stock_pipeline.warehouse.lake import Lake

from stock_pipeline import settings
from stock_pipeline.cli.common import EXIT_PARTIAL, fail, guarded, parse_date
from stock_pipeline.cli.interrupts import (
    SyncInterrupted,
    apply_sync_settings,
    existing_parent,
    finish_interrupted,
    full_disk,
    notices_on_stderr,
    reconcile_orphan_runs,
    run_stoppable,
)
from stock_pipeline.domain import stopping
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    HISTORY_PERIODS,
    normalize_history_interval,
    normalize_intraday_interval,
    normalize_period,
)
from stock_pipeline.domain.symbols import parse_symbols


def _symbols(value: str | None) -> list[str] | None:
    return None if value is None else parse_symbols(value)


def yahoo_overrides(delay: float | None) -> dict[str, Any]:
    """Resource config for the seed's --delay: a fixed gap between Yahoo requests."""
    from stock_pipeline.background.submit import yahoo_config

    try:
        return yahoo_config(delay)
    except ValueError as exc:
        fail(f"--{exc}")


# ---- symbols ---------------------------------------------------------------------------


@click.group()
def symbols() -> None:
    """The registered symbols (the seed's active stocks)."""


@symbols.command("add")
@click.argument("tickers", nargs=-1, required=True)
@click.option("--no-verify", is_flag=True, help="Do not ask Yahoo whether the symbols exist.")
@guarded
def symbols_add(tickers: Sequence[str], no_verify: bool) -> None:
    """Register symbols after asking Yahoo that they exist (e.g. AAPL MSFT or AAPL,MSFT)."""
    from stock_pipeline.defs.resources import YahooFinanceResource
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.registry import add_symbols

    wanted = parse_symbols(",".join(tickers))
    client = None if no_verify else YahooFinanceResource().client()
    result = add_symbols(get_instance(), wanted, client)
    if result.added:
        click.echo(f"added: {', '.join(result.added)}")
    if result.already:
        click.echo(f"already registered: {', '.join(result.already)}")


@symbols.command("remove")
@click.argument("tickers", nargs=-1, required=True)
@guarded
def symbols_remove(tickers: Sequence[str]) -> None:
    """Stop syncing symbols; their stored prices are kept."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.registry import remove_symbols

    wanted = parse_symbols(",".join(tickers))
    removed = remove_symbols(get_instance(), wanted)
    absent = [s for s in wanted if s not in removed]
    if removed:
        click.echo(f"removed: {', '.join(removed)} (stored data kept)")
    if absent:
        click.echo(f"not registered: {', '.join(absent)}")


@symbols.command("list")
def symbols_list() -> None:
    """Registered symbols, in registration order."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.registry import registered_symbols

    for symbol in registered_symbols(get_instance()):
        click.echo(symbol)


# ---- syncs -----------------------------------------------------------------------------


def check_writable(lake: Lake) -> None:
    """Refuse a sync this user or this disk cannot store, before any run: the write would
    fail only at the end of each run, after Yahoo was asked, and be retried as an outage.
    Local parts only: the embedded catalog file and a data directory (not a bucket)."""
    local = [p for p in (lake.sqlite_file, lake.local_data_dir) if p is not None]
    if not local:
        return
    blocked = []
    for path in local:
        folder = path.parent if path.exists() else existing_parent(path)
        blocked += [
            str(p)
            for p in (path, folder)
            if p.exists() and not os.access(p, os.W_OK | os.X_OK if p.is_dir() else os.W_OK)
        ]
    if blocked:
        fail(
            f"cannot write the warehouse: not writable by this user (uid {os.getuid()}): "
            f"{', '.join(dict.fromkeys(blocked))}; run the sync as the user who owns it, or "
            f"give this one write access. Reading (status, chart) works as is; nothing was "
            f"changed"
        )
    full = full_disk(lake)
    if full:
        fail(full)


def _check_delay(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    """click accepts "nan" and "inf" as floats; either would switch the rate limit off."""
    from stock_pipeline.domain.arguments import check_delay

    try:
        check_delay(value)
    except ValueError:
        raise click.BadParameter(
            f"{value} is not a positive, finite number of seconds (e.g. 0.5)"
        ) from None
    return value


def _common_sync_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--symbols", "symbols_", help="Comma-separated symbols (default: all)."),
        click.option("--start-date", callback=parse_date, help="First day, YYYY-MM-DD."),
        click.option("--end-date", callback=parse_date, help="Last day, YYYY-MM-DD."),
        click.option(
            "--force", is_flag=True, help="Fetch partitions already complete or confirmed short."
        ),
        click.option("--dry-run", is_flag=True, help="Print the plan; change nothing."),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            help="At most this many symbols per Dagster run.",
        ),
        click.option(
            "--delay",
            type=float,
            callback=_check_delay,
            help="Seconds between Yahoo requests, a fixed pace (without it the rate starts at "
            "5/s and adapts); positive and finite.",
        ),
        click.option("--quiet", is_flag=True, help="Print only the summary line."),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            help="Seconds to wait for a warehouse another process holds, then fail "
            "(default: $STOCK_PIPELINE_LOCK_TIMEOUT, else 120).",
        ),
        click.option(
            "--background",
            is_flag=True,
            help="Queue the runs for dagster-daemon and return at once; print their ids.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _plan(make: Callable[[], Any]) -> Any:
    """Plan a sync; Ctrl-C/SIGTERM (e.g. while the warehouse is held) ends it cleanly."""
    try:
        with notices_on_stderr():
            return run_stoppable(make)
    except SyncInterrupted as stop:
        finish_interrupted(stop, 0, 0)


def _run_plan(
    plan: Any, dry_run: bool, delay: float | None, quiet: bool, background: bool = False
) -> None:
    from stock_pipeline.definitions import defs
    from stock_pipeline.services.instance import get_instance

    if dry_run or not quiet:
        for line in plan.describe():
            click.echo(line)
    if dry_run:
        click.echo("dry run: nothing fetched, nothing stored")
        return
    if not plan.runs:
        click.echo("nothing to do: every partition is complete (use --force to fetch again)")
        return
    from stock_pipeline.warehouse.lake import Lake

    check_writable(Lake.from_settings())
    if background:
        from stock_pipeline.cli.runs import submit_in_background

        submit_in_background(plan, yahoo_overrides(delay))
        return
    from stock_pipeline.cli.progress_view import choose_mode, watching_plan
    from stock_pipeline.services.sync import execute_plan
    from stock_pipeline.services.sync_progress import SyncTally

    tally = SyncTally.for_plan(plan)
    started = time.monotonic()
    yahoo = yahoo_overrides(delay)
    instance = get_instance()
    finished: list[Any] = []
    stop: SyncInterrupted | None = None
    with watching_plan(plan, yahoo, choose_mode(quiet)) as watch:

        def progress(run: Any, report: Any) -> None:
            watch.finished(run, report)
            tally.add(run, report)
            if quiet:
                return
            watch.echo(
                f"  {report.status:<8} run {report.run_id[:8]} {run.first_key} … "
                f"{run.last_key}: stored {len(report.stored)}, failed "
                f"{len(report.failed)}, rows {report.rows}, requests {report.requests}"
            )
            for key, reason in sorted(report.failed.items()):
                watch.echo(f"    failed {key}: {reason}")
            if report.failure and not report.failed and not report.succeeded:
                watch.echo(f"    {report.failure.splitlines()[0]}")
            watch.echo(tally.progress_line(time.monotonic() - started))

        def run_all() -> list[Any]:
            def on_run(run: Any, report: Any) -> None:
                if not stopping.stop_requested():  # the interrupted run is not "finished"
                    finished.append(report)
                progress(run, report)

            return execute_plan(instance, plan, defs, yahoo, on_run, on_start=watch.started)

        try:
            with notices_on_stderr():
                reports = run_stoppable(run_all)
        except SyncInterrupted as interrupted:
            stop = interrupted
    if stop is not None:  # after the progress view has closed
        finish_interrupted(stop, len(finished), len(plan.runs))
    elapsed = time.monotonic() - started
    if not quiet:
        for line in tally.table():
            click.echo(line)
    click.echo(
        f"done: {tally.stored} partition(s) stored, {tally.failed} failed, "
        f"{tally.rows} rows, {tally.requests} Yahoo requests, "
        f"{len(reports)} run(s), {elapsed:.1f}s"
    )
    if any(not r.succeeded for r in reports):
        sys.exit(EXIT_PARTIAL)


@click.command("sync-intraday")
@_common_sync_options
@click.option(
    "--interval",
    default=DEFAULT_INTRADAY_INTERVAL,
    show_default=True,
    help="1m 2m 5m 15m 30m 60m 90m (1h = 60m).",
)
@click.option("--date", "day", callback=parse_date, help="One trading day (default: the latest).")
@guarded
def sync_intraday(
    symbols_: str | None,
    start_date: date | None,
    end_date: date | None,
    force: bool,
    dry_run: bool,
    batch_size: int | None,
    delay: float | None,
    quiet: bool,
    lock_timeout: float | None,
    background: bool,
    interval: str,
    day: date | None,
) -> None:
    """Fetch intraday bars for (symbol, trading day) partitions (seed: sync_daily_intraday)."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.sync import intraday_days, plan_intraday
    from stock_pipeline.warehouse.lake import Lake

    apply_sync_settings(lock_timeout)
    reconcile_orphan_runs(get_instance())

    interval = normalize_intraday_interval(interval)
    if day and (start_date or end_date):
        fail("give either --date or --start-date/--end-date, not both")
    days = intraday_days(day or start_date, day or end_date, interval, settings.now())
    plan = _plan(
        lambda: plan_intraday(
            get_instance(),
            Lake.from_settings(),
            _symbols(symbols_),
            interval,
            days,
            force,
            batch_size,
        )
    )
    _run_plan(plan, dry_run, delay, quiet, background)


@click.command("sync-historical")
@_common_sync_options
@click.option(
    "--period",
    type=click.Choice(HISTORY_PERIODS, case_sensitive=False),
    help="How far back: 1y 2y 5y max (default 1y when no dates are given).",
)
@click.option("--interval", default="1d", show_default=True, help="1d or 1wk.")
@guarded
def sync_historical(
    symbols_: str | None,
    start_date: date | None,
    end_date: date | None,
    force: bool,
    dry_run: bool,
    batch_size: int | None,
    delay: float | None,
    quiet: bool,
    lock_timeout: float | None,
    background: bool,
    period: str | None,
    interval: str,
) -> None:
    """Fetch daily or weekly bars, one partition per (symbol, year) (seed: sync_historical_data)."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.sync import history_years, plan_history
    from stock_pipeline.warehouse.lake import Lake

    apply_sync_settings(lock_timeout)
    reconcile_orphan_runs(get_instance())

    interval = normalize_history_interval(interval)
    if period is None and start_date is None and end_date is None:
        period = "1y"
    today = settings.now().date()
    years = history_years(
        normalize_period(period) if period else None, start_date, end_date, today, interval
    )
    plan = _plan(
        lambda: plan_history(
            get_instance(),
            Lake.from_settings(),
            _symbols(symbols_),
            interval,
            years,
            force,
            batch_size,
        )
    )
    _run_plan(plan, dry_run, delay, quiet, background)


@click.command("sync-actions")
@click.option("--symbols", "symbols_", help="Comma-separated symbols (default: all active).")
@click.option("--delay", type=float, help="Seconds between Yahoo requests (a fixed pace).")
@guarded
def sync_actions(symbols_: str | None, delay: float | None) -> None:
    """Refresh corporate actions (splits, dividends) alone: one Yahoo request per symbol."""
    from stock_pipeline.defs.jobs import corporate_actions_job

    op_config = {"symbols": _symbols(symbols_) or []}
    result = _run_job(corporate_actions_job.name, "corporate_actions", op_config, delay)
    events = result.get_asset_materialization_events() if result.success else []
    if events:
        meta = events[0].materialization.metadata
        click.echo(
            f"done: {meta['symbols'].value} symbol(s) refreshed, {meta['new_events'].value} "
            f"new event(s), {meta['yahoo_requests'].value} Yahoo requests"
        )
        return
    click.echo(f"failed: {_failure_reason(result)}")
    sys.exit(EXIT_PARTIAL)


def _run_job(
    job: str, op: str, op_config: dict[str, Any], delay: float | None
) -> dg.ExecuteInProcessResult:
    """One in-process run of ``job`` with its op's config and the --delay override."""
    from stock_pipeline.definitions import defs
    from stock_pipeline.services.instance import get_instance

    run_config: dict[str, Any] = {"ops": {op: {"config": op_config}}}
    yahoo = yahoo_overrides(delay)
    if yahoo:
        run_config["resources"] = {"yahoo": {"config": yahoo}}
    return defs.resolve_job_def(job).execute_in_process(
        instance=get_instance(), run_config=run_config, raise_on_error=False
    )


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's message, or where to look."""
    failure = result.get_step_failure_events()
    reason = failure[0].step_failure_data.error if failure else None
    return reason.message.strip() if reason else f"see the run {result.run_id}"


@click.command("reverify")
@click.option("--symbols", "symbols_", help="Comma-separated symbols (default: all active).")
@click.option("--dry-run", is_flag=True, help="Compare and report only; store nothing.")
@click.option("--delay", type=float, help="Seconds between Yahoo requests (a fixed pace).")
@guarded
def reverify(symbols_: str | None, dry_run: bool, delay: float | None) -> None:
    """Compare stored daily bars with Yahoo today (one request per symbol); store differing
    years again. Exit 0: everything matches (after the repair); 1: a symbol could not be
    checked, or differences remain (always so with --dry-run when any were found)."""
    from stock_pipeline.defs.jobs import reverify_job
    from stock_pipeline.defs.reverification import REVERIFY_CHECK_OP

    op_config = {"symbols": _symbols(symbols_) or [], "dry_run": dry_run}
    result = _run_job(reverify_job.name, REVERIFY_CHECK_OP, op_config, delay)
    evaluations = result.get_asset_check_evaluations() if result.success else []
    if not evaluations:
        click.echo(f"failed: {_failure_reason(result)}")
        sys.exit(EXIT_PARTIAL)
    meta: dict[str, Any] = {k: getattr(v, "value", v) for k, v in evaluations[0].metadata.items()}
    for symbol, found in sorted(meta["differing"].items()):
        dates = ", ".join(found["first_dates"]) + (" …" if found["differing_dates"] > 5 else "")
        repaired, left = found["years_repaired"], found["remaining_after_repair"]
        fix = f"; stored again: {', '.join(map(str, repaired))}" if repaired else ""
        fix += f" ({left} difference(s) remain)" if left and not dry_run else ""
        if rebuilt := found.get("weekly_years_rebuilt"):
            fix += f"; weekly rebuilt: {', '.join(map(str, rebuilt))}"
        if resync := found.get("weekly_years_to_resync"):
            fix += f"; weekly to sync again (--interval 1wk --force): {', '.join(map(str, resync))}"
        click.echo(
            f"  {symbol}: {found['differing_dates']} of {found['dates_compared']} date(s) "
            f"differ ({dates}){fix}"
        )
    for symbol, why in sorted(meta["failed"].items()):
        click.echo(f"  {symbol}: not checked: {why}")
    click.echo(
        f"done: {meta['symbols_checked']} symbol(s) checked, {meta['dates_compared']} date(s) "
        f"compared, {meta['symbols_differing']} differ, {meta['symbols_failed']} failed, "
        f"{meta['partitions_repaired']} partition(s) stored again"
        + (
            f", {meta['weekly_partitions_rebuilt']} weekly rebuilt"
            if meta.get("weekly_partitions_rebuilt")
            else ""
        )
        + (" (dry run: nothing stored)" if dry_run else "")
        + f", {meta['yahoo_requests']} Yahoo requests"
    )
    if meta["symbols_failed"] or any(
        f["remaining_after_repair"] for f in meta["differing"].values()
    ):
        sys.exit(EXIT_PARTIAL)


COMMANDS = [symbols, sync_intraday, sync_historical, sync_actions, reverify]
