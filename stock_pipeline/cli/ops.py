"""health and status: is the deployment working, and what does the warehouse hold."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, timedelta

import click

from stock_pipeline.cli.common import guarded

EXIT_UNHEALTHY = 1
GAP_DAYS_SHOWN = 5


@click.command()
@click.option(
    "--daemon-stale-after",
    default=120,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds without a daemon heartbeat after which the daemon counts as down.",
)
@click.option(
    "--sync-grace",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Minutes after the close for the day's final scheduled sync to finish.",
)
def health(daemon_stale_after: int, sync_grace: int) -> None:
    """Exit 0 when healthy; otherwise 1, with the reasons: warehouse unreadable, instance
    storage unreachable, daemon heartbeat stale, last scheduled sync missing or failed."""
    from stock_pipeline import settings
    from stock_pipeline.defs.jobs import intraday_prices_job
    from stock_pipeline.defs.schedules import intraday_hourly_schedule
    from stock_pipeline.reporting.health import health_report
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.warehouse.lake import Lake

    findings = health_report(
        Lake.from_settings(),
        get_instance,
        job_name=intraday_prices_job.name,
        schedule=intraday_hourly_schedule.name,
        now=settings.now(),
        stale_after=timedelta(seconds=daemon_stale_after),
        grace=timedelta(minutes=sync_grace),
    )
    for finding in findings:
        click.echo(f"{'ok' if finding.ok else 'FAIL':<5} {finding.name:<15} {finding.detail}")
    failed = [f.name for f in findings if not f.ok]
    if failed:
        click.echo(f"unhealthy: {', '.join(failed)}", err=True)
        sys.exit(EXIT_UNHEALTHY)
    click.echo("healthy")


def _days(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:GAP_DAYS_SHOWN])
    return f"{len(days)} ({shown}{', …' if len(days) > GAP_DAYS_SHOWN else ''})"


@click.command()
@click.option("--interval", default=None, help="Intraday interval whose gaps to list (5m).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@guarded
def status(interval: str | None, as_json: bool) -> None:
    """Per symbol: newest bar per interval, sessions missing in the lookback window,
    quarantine."""
    from stock_pipeline import settings
    from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL, intraday_spec
    from stock_pipeline.reporting.status import collect_status
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.warehouse.lake import Lake

    chosen = intraday_spec(interval or DEFAULT_INTRADAY_INTERVAL).interval
    report = collect_status(get_instance(), Lake.from_settings(), settings.now(), chosen)
    if as_json:
        click.echo(json.dumps(asdict(report), default=str, indent=2))
        return
    if report.window is None:
        click.echo(f"gaps at {report.interval}: no closed session in the window")
    else:
        first, last = report.window
        click.echo(f"gaps at {report.interval} over closed sessions {first} … {last}")
    if not report.symbols:
        click.echo("no symbols registered: add some with `stock-pipeline symbols add AAPL`")
        return
    for s in report.symbols:
        latest = " · ".join(f"{k} {v}" for k, v in sorted(s.latest.items())) or "no bars stored"
        click.echo(f"{s.symbol}: {latest}")
        if s.quarantine is not None:
            click.echo(
                f"  QUARANTINED since {s.quarantine.quarantined_at}: {s.quarantine.last_reason}"
            )
        if not s.gaps:
            click.echo("  no gaps")
        for label, days in (
            ("missing", s.missing),
            ("provisional", s.provisional),
            ("short, pending repair", s.short),
            ("short, confirmed", s.short_confirmed),
        ):
            if days:
                click.echo(f"  {label}: {_days(days)}")


COMMANDS = [health, status]
