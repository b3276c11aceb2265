"""The offline demo: a fake Yahoo, real Dagster runs, a local DuckDB file."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial

from stock_pipeline import settings
from stock_pipeline.cli.progress_view import PlanWatch, choose_mode, watching_plan
from stock_pipeline.defs.resources import YAHOO_URL_ENV, YahooFinanceResource
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.fake_yahoo import FakeYahoo, FakeYahooConfig
from stock_pipeline.services.instance import get_instance
from stock_pipeline.services.registry import add_symbols
from stock_pipeline.services.run_report import RunReport
from stock_pipeline.services.sync import (
    QUIET_CONSOLE,
    RunSlice,
    SyncPlan,
    execute_plan,
    plan_history,
    plan_intraday,
)
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect


def _show(watch: PlanWatch, run: RunSlice, report: RunReport) -> None:
    """A finished run's line, above the live progress."""
    watch.finished(run, report)
    watch.echo(
        f"  run {report.run_id[:8]} {report.status}: {run.first_key} … {run.last_key}: "
        f"{len(report.stored)} partitions, {report.rows} rows, {report.requests} Yahoo requests"
    )
    for key, reason in sorted(report.failed.items()):
        watch.echo(f"    failed {key}: {reason}")


def run_demo(symbols: Sequence[str], days: int, echo: Callable[[str], None]) -> int:
    """Sync ``symbols`` over the last ``days`` sessions from a fake Yahoo; 0 when all stored."""
    from stock_pipeline.definitions import defs

    instance = get_instance()
    database = Lake.from_settings()
    now = settings.now()
    with FakeYahoo(FakeYahooConfig()) as fake:
        os.environ[YAHOO_URL_ENV] = fake.url
        echo(f"fake Yahoo serving on {fake.url} (no network used)")
        echo(f"Dagster instance: {os.environ['DAGSTER_HOME']}")
        echo(f"warehouse: {database}")
        added = add_symbols(instance, symbols, YahooFinanceResource().client())
        echo(f"symbols: {', '.join(symbols)} ({len(added.added)} newly registered)")

        sessions = sessions_back(latest_session(now), days)
        plans: list[SyncPlan] = [
            plan_intraday(instance, database, symbols, "5m", sessions, force=False),
            plan_history(instance, database, symbols, "1d", [now.year - 1, now.year], force=False),
        ]
        ok = True

        for plan in plans:
            echo(plan.describe()[0])
            with watching_plan(plan, None, choose_mode(quiet=False)) as watch:
                reports = execute_plan(
                    instance, plan, defs, on_run=partial(_show, watch), on_start=watch.started
                )
            ok = ok and all(report.succeeded for report in reports)
        current = defs.resolve_job_def("current_prices_job").execute_in_process(
            instance=instance, raise_on_error=False, run_config={"loggers": QUIET_CONSOLE}
        )
        ok = ok and current.success
        echo(f"  current prices: {'stored' if current.success else 'FAILED'}")

    with connect(database, read_only=True) as con:
        echo("\nstored intraday bars (5m):")
        for row in con.execute(
            """SELECT symbol, count(DISTINCT session_date), count(*), min(ts), max(ts)
               FROM intraday_prices WHERE interval = '5m' AND symbol IN (SELECT unnest(?))
               GROUP BY symbol ORDER BY symbol""",
            [list(symbols)],
        ).fetchall():
            echo(f"  {row[0]:<6} {row[1]} day(s) {row[2]:>5} bars  {row[3]} → {row[4]}")
        echo("stored daily bars:")
        for row in con.execute(
            """SELECT symbol, count(*), min(date), max(date) FROM daily_prices
               WHERE interval = '1d' AND symbol IN (SELECT unnest(?))
               GROUP BY symbol ORDER BY symbol""",
            [list(symbols)],
        ).fetchall():
            echo(f"  {row[0]:<6} {row[1]:>4} days  {row[2]} → {row[3]}")
        echo("current prices:")
        for row in con.execute(
            "SELECT symbol, price, market_time FROM current_prices "
            "WHERE symbol IN (SELECT unnest(?)) ORDER BY symbol",
            [list(symbols)],
        ).fetchall():
            echo(f"  {row[0]:<6} {row[1]:>10.2f}  at {row[2]}")

    echo("\nOpen the UI on the same data:")
    echo("  uv run stock-pipeline fake-yahoo --port 8765 &")
    echo(f"  DAGSTER_HOME={os.environ['DAGSTER_HOME']} {YAHOO_URL_ENV}=http://127.0.0.1:8765 \\")
    echo("    uv run dagster dev -w workspace.yaml    # then browse http://127.0.0.1:3000")
    return 0 if ok else 1
