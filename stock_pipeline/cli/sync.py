"""symbols, sync-intraday, sync-historical: the seed's management commands, through Dagster."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import click

from stock_pipeline import settings
from stock_pipeline.cli.common import EXIT_PARTIAL, fail, guarded, parse_date
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
    """Resource config for the seed's --delay: minimum seconds between Yahoo requests."""
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


def _common_sync_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--symbols", "symbols_", help="Comma-separated symbols (default: all)."),
        click.option("--start-date", callback=parse_date, help="First day, YYYY-MM-DD."),
        click.option("--end-date", callback=parse_date, help="Last day, YYYY-MM-DD."),
        click.option("--force", is_flag=True, help="Fetch partitions already complete too."),
        click.option("--dry-run", is_flag=True, help="Print the plan; change nothing."),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            help="At most this many symbols per Dagster run.",
        ),
        click.option(
            "--delay", type=float, help="Minimum seconds between Yahoo requests (rate limit)."
        ),
        click.option("--quiet", is_flag=True, help="Print only the summary line."),
        click.option(
            "--background",
            is_flag=True,
            help="Queue the runs for dagster-daemon and return at once; print their ids.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


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

        reports = execute_plan(get_instance(), plan, defs, yahoo, progress, on_start=watch.started)
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
    background: bool,
    interval: str,
    day: date | None,
) -> None:
    """Fetch intraday bars for (symbol, trading day) partitions (seed: sync_daily_intraday)."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.sync import intraday_days, plan_intraday
    from stock_pipeline.warehouse.lake import Lake

    interval = normalize_intraday_interval(interval)
    if day and (start_date or end_date):
        fail("give either --date or --start-date/--end-date, not both")
    days = intraday_days(day or start_date, day or end_date, interval, settings.now())
    plan = plan_intraday(
        get_instance(),
        Lake.from_settings(),
        _symbols(symbols_),
        interval,
        days,
        force,
        batch_size,
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
    background: bool,
    period: str | None,
    interval: str,
) -> None:
    """Fetch daily or weekly bars, one partition per (symbol, year) (seed: sync_historical_data)."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.sync import history_years, plan_history
    from stock_pipeline.warehouse.lake import Lake

    interval = normalize_history_interval(interval)
    if period is None and start_date is None and end_date is None:
        period = "1y"
    today = settings.now().date()
    years = history_years(normalize_period(period) if period else None, start_date, end_date, today)
    plan = plan_history(
        get_instance(),
        Lake.from_settings(),
        _symbols(symbols_),
        interval,
        years,
        force,
        batch_size,
        today,
    )
    _run_plan(plan, dry_run, delay, quiet, background)


COMMANDS = [symbols, sync_intraday, sync_historical]
