"""runs, run, schedules: watching the Dagster run queue from the shell (the seed's inspect())."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import click

from stock_pipeline import settings
from stock_pipeline.cli.common import EXIT_PARTIAL, fail, guarded
from stock_pipeline.domain.trading_calendar import NEW_YORK

if TYPE_CHECKING:
    import dagster as dg

    from stock_pipeline.background.monitor import RunKind
    from stock_pipeline.services.sync import SyncPlan

LOG_LINE_CHARS = 160


def _ny(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "-" if moment is None else moment.astimezone(NEW_YORK).strftime(fmt)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _warn_if_no_daemon(instance: dg.DagsterInstance, queued: int) -> None:
    from stock_pipeline.background import daemon

    if queued and not daemon.daemon_running(instance):
        message = daemon.not_running_message(instance)
        click.echo(f"warning: {queued} run(s) queued; {message}", err=True)


def submit_in_background(plan: SyncPlan, yahoo: dict[str, Any]) -> None:
    """sync-… --background: queue the plan's runs, print their ids and how to follow them."""
    from stock_pipeline.background import EAGER_ENV, submit_plan
    from stock_pipeline.background.submit import eager_by_default
    from stock_pipeline.services.instance import get_instance

    instance = get_instance()
    handle = submit_plan(plan, yahoo, instance=instance)
    if eager_by_default():
        result = handle.wait(timeout=0)
        click.echo(f"{EAGER_ENV} is set: the run(s) ran in this process, not in the queue")
        click.echo(result.summary())
        if not result.succeeded:
            sys.exit(EXIT_PARTIAL)
        return
    click.echo(
        f"queued {len(handle.run_ids)} run(s) for dagster-daemon "
        f"(DAGSTER_HOME={settings.dagster_home()}):"
    )
    for run_id, run_slice in zip(handle.run_ids, plan.runs, strict=True):
        click.echo(
            f"  {run_id}  {run_slice.first_key} … {run_slice.last_key} "
            f"({len(run_slice.keys)} partitions)"
        )
    click.echo(
        "follow them with `stock-pipeline run RUN_ID`, `stock-pipeline runs --queued` or "
        "`--active`, or in the UI under Runs"
    )
    _warn_if_no_daemon(instance, len(handle.run_ids))


@click.command("runs")
@click.option("--active", "kind", flag_value="active", help="Runs launched and not finished.")
@click.option("--queued", "kind", flag_value="queued", help="Runs waiting for the daemon.")
@click.option("--failed", "kind", flag_value="failed", help="Recently failed runs.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def runs(kind: str | None, limit: int) -> None:
    """Recent Dagster runs, newest first (times in New York)."""
    from stock_pipeline.background import list_runs
    from stock_pipeline.services.instance import get_instance

    instance = get_instance()
    found = list_runs(instance, cast("RunKind", kind or "all"), limit)
    if not found:
        click.echo(f"no {kind} runs" if kind else "no runs")
    else:
        click.echo(
            f"{'RUN':<8}  {'STATUS':<9}  {'JOB':<20}  {'PARTITIONS':<40}  {'ORIGIN':<10}  "
            f"{'CREATED (NY)':<19}  TIME"
        )
    for run in found:
        click.echo(
            f"{run.run_id[:8]}  {run.status:<9}  {run.job:<20}  {run.partitions or '-':<40}  "
            f"{run.origin or '-':<10}  {_ny(run.created):<19}  {_seconds(run.seconds)}"
        )
    queued = found if kind == "queued" else list_runs(instance, "queued", 1)
    _warn_if_no_daemon(instance, len(queued))


@click.command("run")
@click.argument("run_id")
@click.option("--tail", type=click.IntRange(min=0), default=15, show_default=True)
@click.option(
    "--follow",
    is_flag=True,
    help="Show the run's live progress until it ends (a bar on a terminal, a line every "
    "10 s otherwise), then its summary.",
)
@guarded
def run(run_id: str, tail: int, follow: bool) -> None:
    """One run: status, per-partition result and the end of its log (RUN_ID or a prefix)."""
    import dagster as dg

    from stock_pipeline.background.handle import attempts, requests_spent
    from stock_pipeline.background.monitor import RunSummary, find_run_id
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.run_report import read_run_report

    instance = get_instance()
    try:
        full_id = find_run_id(instance, run_id)
    except KeyError as exc:
        fail(str(exc.args[0]))
    if follow:
        follow_run(instance, full_id)
    (record,) = instance.get_run_records(filters=dg.RunsFilter(run_ids=[full_id]))
    summary = RunSummary.from_record(record)
    report = read_run_report(instance, full_id)
    click.echo(f"run {full_id} ({summary.job})")
    click.echo(f"status:     {summary.status} (Dagster: {summary.dagster_status})")
    click.echo(
        f"partitions: {summary.partitions or '-'}; interval {summary.interval or '-'}; "
        f"origin {summary.origin or '-'}"
    )
    click.echo(
        f"created:    {_ny(summary.created)} New York; started {_ny(summary.started, '%H:%M:%S')}"
        f"; ended {_ny(summary.ended, '%H:%M:%S')} ({_seconds(summary.seconds)})"
    )
    for retry in attempts(instance, full_id)[1:]:
        click.echo(f"retried as: {retry.run_id} ({retry.status.value})")
    click.echo(
        f"stored:     {len(report.stored)} partition(s), {report.rows} rows, "
        f"{requests_spent(report)} Yahoo requests"
    )
    for key, part in sorted(report.stored.items()):
        click.echo(f"  {key:<24} {part.rows:>6} rows  {part.requests:>3} request(s)")
    if report.failed:
        click.echo(f"failed:     {len(report.failed)} partition(s)")
        for key, reason in sorted(report.failed.items()):
            click.echo(f"  {key}: {reason}")
    elif report.failure:
        click.echo(f"failure:    {report.failure.splitlines()[0]}")
    if summary.status == "queued":
        _warn_if_no_daemon(instance, 1)
    if tail:
        records = list(instance.all_logs(full_id))[-tail:]
        click.echo(f"log (last {len(records)} events; the UI keeps them all):")
        for entry in records:
            when = datetime.fromtimestamp(entry.timestamp, UTC)
            kind = entry.dagster_event.event_type.name if entry.dagster_event else "LOG"
            text = (entry.user_message or entry.message or "").strip()
            line = text.splitlines()[0] if text else ""
            click.echo(f"  {_ny(when, '%H:%M:%S')} {kind:<22} {line[:LOG_LINE_CHARS]}")


def follow_run(instance: dg.DagsterInstance, run_id: str, poll_seconds: float = 0.5) -> None:
    """Show a run's live progress (from its progress file) until it and its retries end."""
    from stock_pipeline.background.handle import SyncHandle
    from stock_pipeline.cli.progress_view import ProgressView, choose_mode

    handle = SyncHandle([run_id], instance)
    status = handle.status
    click.echo(f"following run {run_id} ({status}); Ctrl-C stops following, not the run")
    if status == "queued":
        _warn_if_no_daemon(instance, 1)
    with ProgressView(choose_mode(quiet=False), f"run {run_id[:8]}") as view:
        while True:
            progress = handle.progress()
            view.update(progress, force_line=progress.finished)
            if progress.finished:
                return
            time.sleep(poll_seconds)


@click.command("schedules")
@click.option("--ticks", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--no-preview", is_flag=True, help="List tick times only; do not evaluate ticks.")
def schedules(ticks: int, no_preview: bool) -> None:
    """Each schedule: on or off, its crons, and its next ticks in New York time."""
    from stock_pipeline.background import daemon
    from stock_pipeline.background.schedule_view import schedule_views
    from stock_pipeline.services.instance import get_instance

    instance = get_instance()
    views = schedule_views(instance, ticks=ticks, preview=not no_preview)
    for view in views:
        state = "on " if view.on else "off"
        click.echo(f"{view.name:<30} {state}  {' | '.join(view.crons)} ({view.timezone})")
        for tick in view.ticks:
            click.echo(f"  {_ny(tick.at, '%a %Y-%m-%d %H:%M %Z'):<26} {tick.describe()}")
    if any(not v.on for v in views):
        click.echo(
            "turn a schedule on in the UI (Automation) or with "
            "`dagster schedule start NAME -w workspace.yaml`"
        )
    if any(v.on for v in views) and not daemon.daemon_running(instance):
        click.echo(
            f"warning: schedules that are on tick only while the daemon runs; "
            f"{daemon.not_running_message(instance)}"
        )


COMMANDS = [runs, run, schedules]
