"""Is the deployment healthy? The findings behind ``stock-pipeline health``.

Four questions, each answered with a reason: can the DuckDB warehouse be read; can the
Dagster instance's storage be reached; is every daemon the instance needs sending
heartbeats; did the last scheduled intraday sync of the latest closed trading day (the
hourly schedule's tick at the close) run and succeed. Each is a function of its inputs
and ``now``, so tests judge fixed instants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from stock_pipeline.domain.run_keys import SCHEDULE_NAME_TAG, SCHEDULED_TIME_TAG
from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    latest_session,
    previous_session,
    session_close,
)
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect

# Daemons heartbeat every 30 s; four missed beats mean the daemon is gone or wedged.
DAEMON_STALE_AFTER = timedelta(minutes=2)
# How long after the close the final intraday sync may take to be launched and finish.
SYNC_GRACE = timedelta(minutes=30)
OK_STATUSES = {dg.DagsterRunStatus.SUCCESS}
FAILED_STATUSES = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str


def check_warehouse(database: Lake | Path) -> Finding:
    """The DuckDB file exists and answers a query in read-only mode."""
    if not database.exists():
        return Finding("warehouse", False, f"{database} does not exist (no sync has stored data)")
    try:
        with connect(database, read_only=True, wait_seconds=10) as con:
            row = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    except Exception as exc:  # reported as the reason; health must not crash
        return Finding("warehouse", False, f"{database} is unreadable: {type(exc).__name__}: {exc}")
    rows = int(row[0]) if row else 0
    return Finding("warehouse", True, f"{database} readable ({rows} intraday rows)")


def open_instance(
    factory: Callable[[], dg.DagsterInstance],
) -> tuple[Finding, dg.DagsterInstance | None]:
    """The instance, if its run storage answers (SQLite file or PostgreSQL server)."""
    try:
        instance = factory()
        instance.get_runs(limit=1)
    except Exception as exc:  # reported as the reason; health must not crash
        return Finding("instance", False, f"storage unreachable: {type(exc).__name__}: {exc}"), None
    where = instance.root_directory if instance.is_persistent else "ephemeral (no DAGSTER_HOME)"
    storage = type(instance.run_storage).__name__
    return Finding("instance", True, f"{storage} reachable ({where})"), instance


def stale_daemons(
    required: Sequence[str], beats: Mapping[str, float], now: datetime, stale_after: timedelta
) -> dict[str, str]:
    """Required daemons without a heartbeat newer than ``stale_after``, with why."""
    stale = {}
    for daemon in required:
        beat = beats.get(daemon)
        if beat is None:
            stale[daemon] = "never sent a heartbeat"
            continue
        age = now.timestamp() - beat
        if age > stale_after.total_seconds():
            stale[daemon] = f"last heartbeat {age:.0f} s ago"
    return stale


def check_daemon(instance: dg.DagsterInstance, now: datetime, stale_after: timedelta) -> Finding:
    required = list(instance.get_required_daemon_types())
    if not required:
        return Finding("daemon", False, "the instance is ephemeral: set DAGSTER_HOME")
    beats = {k: hb.timestamp for k, hb in instance.get_daemon_heartbeats().items()}
    stale = stale_daemons(required, beats, now, stale_after)
    if stale:
        lines = ", ".join(f"{daemon} {why}" for daemon, why in sorted(stale.items()))
        return Finding(
            "daemon",
            False,
            f"dagster-daemon is not running or stuck: {lines} (stale after "
            f"{stale_after.total_seconds():.0f} s)",
        )
    return Finding("daemon", True, f"{len(required)} daemon(s) sent heartbeats recently")


def last_closed_session(now: datetime, grace: timedelta) -> date:
    """The latest session whose close was at least ``grace`` before ``now``."""
    day = latest_session(now)
    return day if session_close(day) + grace <= now else previous_session(day)


def judge_close_runs(
    day: date, schedule: str, runs: Sequence[tuple[str, dg.DagsterRunStatus]]
) -> Finding:
    """The verdict on the runs the schedule launched at ``day``'s close."""
    close = session_close(day).astimezone(NEW_YORK)
    what = f"the {schedule} tick at the {close:%H:%M} close of {day}"
    if not runs:
        return Finding(
            "scheduled_sync",
            False,
            f"no run was launched by {what}: is the schedule running, are symbols registered?",
        )
    failed = [run_id for run_id, status in runs if status in FAILED_STATUSES]
    if failed:
        return Finding(
            "scheduled_sync",
            False,
            f"{len(failed)} of {len(runs)} run(s) of {what} failed: {', '.join(failed)}",
        )
    unfinished = [
        f"{run_id} {status.value}" for run_id, status in runs if status not in OK_STATUSES
    ]
    if unfinished:
        return Finding("scheduled_sync", False, f"{what} has not finished: {', '.join(unfinished)}")
    return Finding("scheduled_sync", True, f"{len(runs)} run(s) of {what} succeeded")


def check_scheduled_sync(
    instance: dg.DagsterInstance, job_name: str, schedule: str, now: datetime, grace: timedelta
) -> Finding:
    """Runs of ``job_name`` that ``schedule`` launched for the latest closed session's close.

    Dagster tags every scheduled run with its tick's instant in UTC; matching it picks out
    the close tick's runs whenever they were created (a daemon catching up late included).
    """
    day = last_closed_session(now, grace)
    tick = session_close(day).astimezone(UTC).isoformat()
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=job_name,
            tags={SCHEDULE_NAME_TAG: schedule, SCHEDULED_TIME_TAG: tick},
        )
    )
    runs = [(r.dagster_run.run_id, r.dagster_run.status) for r in records]
    return judge_close_runs(day, schedule, runs)


def health_report(
    database: Lake | Path,
    instance_factory: Callable[[], dg.DagsterInstance],
    job_name: str,
    schedule: str,
    now: datetime,
    stale_after: timedelta = DAEMON_STALE_AFTER,
    grace: timedelta = SYNC_GRACE,
) -> list[Finding]:
    """Every finding, in the order a person would look; unhealthy if any is not ok."""
    findings = [check_warehouse(database)]
    found, instance = open_instance(instance_factory)
    findings.append(found)
    if instance is None:
        skipped = "not checked: the instance storage is unreachable"
        return [
            *findings,
            Finding("daemon", False, skipped),
            Finding("scheduled_sync", False, skipped),
        ]
    findings.append(check_daemon(instance, now, stale_after))
    findings.append(check_scheduled_sync(instance, job_name, schedule, now, grace))
    return findings
