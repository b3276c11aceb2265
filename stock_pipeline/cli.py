"""The ``stock-pipeline`` command: the seed's management commands, run through Dagster."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import click

from stock_pipeline import settings
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    HISTORY_PERIODS,
    normalize_history_interval,
    normalize_intraday_interval,
    normalize_period,
)
from stock_pipeline.domain.symbols import parse_symbols
from stock_pipeline.resources import YAHOO_URL_ENV

EXIT_PARTIAL = 1  # some partitions failed; the rest were stored
EXIT_USAGE = 2  # bad flags or input; nothing was changed


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _symbols(value: str | None) -> list[str] | None:
    return None if value is None else parse_symbols(value)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's own errors into a clear message and exit code 2."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StockPipelineError as exc:
            _fail(str(exc))

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _yahoo_overrides(delay: float | None) -> dict[str, Any]:
    if delay is None:
        return {}
    if delay <= 0:
        raise click.BadParameter("--delay must be > 0 seconds")
    return {"requests_per_second": 1.0 / delay}


@click.group()
def main() -> None:
    """Keep a DuckDB warehouse of US stock prices from Yahoo Finance, through Dagster."""


# ---- symbols ---------------------------------------------------------------------------


@main.group()
def symbols() -> None:
    """The registered symbols (the seed's active stocks)."""


@symbols.command("add")
@click.argument("tickers", nargs=-1, required=True)
@click.option("--no-verify", is_flag=True, help="Do not ask Yahoo whether the symbols exist.")
@guarded
def symbols_add(tickers: Sequence[str], no_verify: bool) -> None:
    """Register symbols after asking Yahoo that they exist (e.g. AAPL MSFT or AAPL,MSFT)."""
    from stock_pipeline.instance import get_instance
    from stock_pipeline.registry import add_symbols
    from stock_pipeline.resources import YahooFinanceResource

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
    from stock_pipeline.instance import get_instance
    from stock_pipeline.registry import remove_symbols

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
    from stock_pipeline.instance import get_instance
    from stock_pipeline.registry import registered_symbols

    for symbol in registered_symbols(get_instance()):
        click.echo(symbol)


# ---- syncs -----------------------------------------------------------------------------


def _common_sync_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--symbols", "symbols_", help="Comma-separated symbols (default: all)."),
        click.option("--start-date", callback=_date, help="First day, YYYY-MM-DD."),
        click.option("--end-date", callback=_date, help="Last day, YYYY-MM-DD."),
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
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run_plan(plan: Any, dry_run: bool, delay: float | None, quiet: bool) -> None:
    from stock_pipeline.definitions import defs
    from stock_pipeline.instance import get_instance
    from stock_pipeline.sync import execute_plan

    if dry_run or not quiet:
        for line in plan.describe():
            click.echo(line)
    if dry_run:
        click.echo("dry run: nothing fetched, nothing stored")
        return
    if not plan.runs:
        click.echo("nothing to do: every partition is complete (use --force to fetch again)")
        return
    totals = {"stored": 0, "failed": 0, "rows": 0, "requests": 0}
    started = time.monotonic()

    def progress(run: Any, report: Any) -> None:
        totals["stored"] += len(report.stored)
        totals["failed"] += len(report.failed) or (0 if report.succeeded else len(run.keys))
        totals["rows"] += report.rows
        totals["requests"] += report.requests
        if not quiet:
            click.echo(
                f"  {report.status:<8} run {report.run_id[:8]} {run.first_key} … "
                f"{run.last_key}: stored {len(report.stored)}, failed "
                f"{len(report.failed)}, rows {report.rows}, requests {report.requests}"
            )
            for key, reason in sorted(report.failed.items()):
                click.echo(f"    failed {key}: {reason}")
            if report.failure and not report.failed and not report.succeeded:
                click.echo(f"    {report.failure.splitlines()[0]}")

    reports = execute_plan(get_instance(), plan, defs, _yahoo_overrides(delay), progress)
    elapsed = time.monotonic() - started
    click.echo(
        f"done: {totals['stored']} partition(s) stored, {totals['failed']} failed, "
        f"{totals['rows']} rows, {totals['requests']} Yahoo requests, "
        f"{len(reports)} run(s), {elapsed:.1f}s"
    )
    if any(not r.succeeded for r in reports):
        sys.exit(EXIT_PARTIAL)


@main.command("sync-intraday")
@_common_sync_options
@click.option(
    "--interval",
    default=DEFAULT_INTRADAY_INTERVAL,
    show_default=True,
    help="1m 2m 5m 15m 30m 60m 90m (1h = 60m).",
)
@click.option("--date", "day", callback=_date, help="One trading day (default: the latest).")
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
    interval: str,
    day: date | None,
) -> None:
    """Fetch intraday bars for (symbol, trading day) partitions (seed: sync_daily_intraday)."""
    from stock_pipeline.instance import get_instance
    from stock_pipeline.sync import intraday_days, plan_intraday

    interval = normalize_intraday_interval(interval)
    if day and (start_date or end_date):
        _fail("give either --date or --start-date/--end-date, not both")
    days = intraday_days(day or start_date, day or end_date, interval, datetime.now(UTC))
    plan = plan_intraday(
        get_instance(),
        settings.duckdb_path(),
        _symbols(symbols_),
        interval,
        days,
        force,
        batch_size,
    )
    _run_plan(plan, dry_run, _check_delay(delay), quiet)


@main.command("sync-historical")
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
    period: str | None,
    interval: str,
) -> None:
    """Fetch daily or weekly bars, one partition per (symbol, year) (seed: sync_historical_data)."""
    from stock_pipeline.instance import get_instance
    from stock_pipeline.sync import history_years, plan_history

    interval = normalize_history_interval(interval)
    if period is None and start_date is None and end_date is None:
        period = "1y"
    today = datetime.now(UTC).date()
    years = history_years(normalize_period(period) if period else None, start_date, end_date, today)
    plan = plan_history(
        get_instance(),
        settings.duckdb_path(),
        _symbols(symbols_),
        interval,
        years,
        force,
        batch_size,
        today,
    )
    _run_plan(plan, dry_run, _check_delay(delay), quiet)


def _check_delay(delay: float | None) -> float | None:
    if delay is not None and delay <= 0:
        _fail("--delay must be a positive number of seconds")
    return delay


# ---- fake Yahoo and demo ---------------------------------------------------------------


@main.command("fake-yahoo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to each answer.")
@click.option("--rate-limit", type=float, help="Answer 429 above this many requests/second.")
def fake_yahoo(host: str, port: int, latency: float, rate_limit: float | None) -> None:
    """Serve a simulated Yahoo Finance (no network needed); point the pipeline at it with
    STOCK_PIPELINE_YAHOO_URL=http://HOST:PORT."""
    from stock_pipeline.fake_yahoo.server import serve

    click.echo(f"fake Yahoo on http://{host}:{port} — export {YAHOO_URL_ENV}=http://{host}:{port}")
    serve(host, port, latency_seconds=latency, rate_limit_per_second=rate_limit)


@main.command()
@click.option("--symbols", "symbols_", default="AAPL,MSFT,NVDA", show_default=True)
@click.option("--days", default=3, show_default=True, type=click.IntRange(1, 30))
@guarded
def demo(symbols_: str, days: int) -> None:
    """Offline demo: fake Yahoo → Dagster runs → local DuckDB; prints what it stored."""
    from stock_pipeline.demo import run_demo

    code = run_demo(parse_symbols(symbols_), days, echo=click.echo)
    sys.exit(code)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
