"""Is the deployment healthy? The findings behind ``stock-pipeline health``.

Five questions, each answered with a reason: can the DuckDB warehouse be read; can the
Dagster instance's storage be reached; is every daemon the instance needs sending
heartbeats; did the last scheduled intraday sync of the latest closed trading day (the
hourly schedule's tick at the close) run and succeed; were those runs created with one
planned event per run (the daemon's environment has the project's switch). Each is a
function of its inputs and ``now``, so tests judge fixed instants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from stock_pipeline.domain.run_keys import (
    PLANNED_EVENTS_ENV,
    SCHEDULE_NAME_TAG,
    SCHEDULED_TIME_TAG,
)
from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    latest_session,
    previous_session,
    session_close,
)
from stock_pipeline.warehouse.integrity import WarehouseDamagedError, verify
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


def check_warehouse(database: Lake) -> Finding:
    """The lake's catalog answers and every data file of its current snapshot reads whole.

    ``count(*)`` alone is answered from catalog statistics and passes a deleted or cut
    Parquet file; ``verify`` reads every column, so damage shows here rather than in the
    next sync or ``status``.
    """
    if not database.exists():
        return Finding("warehouse", False, f"{database} does not exist (no sync has stored data)")
    try:
        with connect(database, read_only=True, wait_seconds=10) as con:
            report = verify(con)
    except WarehouseDamagedError as exc:
        return Finding(
            "warehouse",
            False,
            f"{database} is damaged: {exc}; move it aside and restore a backup or re-sync",
        )
    except Exception as exc:  # reported as the reason; health must not crash
        return Finding("warehouse", False, f"{database} is unreadable: {type(exc).__name__}: {exc}")
    others = ", ".join(
        f"{rows} {name}" for name, rows in report.rows.items() if name != "intraday_prices"
    )
    intraday = report.rows.get("intraday_prices", 0)
    return Finding(
        "warehouse",
        True,
        f"{database} readable ({intraday} intraday rows; {others}; every page read)",
    )


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


def close_tick_runs(
    instance: dg.DagsterInstance, job_name: str, schedule: str, day: date
) -> list[dg.DagsterRun]:
    """Runs of ``job_name`` that ``schedule`` launched for ``day``'s close.

    Dagster tags every scheduled run with its tick's instant in UTC; matching it picks out
    the close tick's runs whenever they were created (a daemon catching up late included).
    """
    tick = session_close(day).astimezone(UTC).isoformat()
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=job_name,
            tags={SCHEDULE_NAME_TAG: schedule, SCHEDULED_TIME_TAG: tick},
        )
    )
    return [r.dagster_run for r in records]


def check_scheduled_sync(
    instance: dg.DagsterInstance, job_name: str, schedule: str, now: datetime, grace: timedelta
) -> Finding:
    """Runs of ``job_name`` that ``schedule`` launched for the latest closed session's close."""
    day = last_closed_session(now, grace)
    runs = close_tick_runs(instance, job_name, schedule, day)
    return judge_close_runs(day, schedule, [(r.run_id, r.status) for r in runs])


def planned_per_partition(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run's creation planned its partitions one event each: its first planned
    event names a partition (one per run names none and holds the partition set)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=1
    ).records
    if not records:
        return False
    planned = records[0].event_log_entry.get_dagster_event().event_specific_data
    return getattr(planned, "partition", None) is not None


def check_run_creation(
    instance: dg.DagsterInstance, job_name: str, schedule: str, now: datetime, grace: timedelta
) -> Finding:
    """Were the close tick's runs (created by dagster-daemon) planned in one event each?

    A daemon started without the project's switch still works, but creating a run of
    5,000 partitions takes it minutes instead of seconds (bench B8).
    """
    day = last_closed_session(now, grace)
    runs = close_tick_runs(instance, job_name, schedule, day)
    slow = [r.run_id for r in runs if planned_per_partition(instance, r.run_id)]
    if slow:
        return Finding(
            "run_creation",
            False,
            f"{len(slow)} of {len(runs)} run(s) of the {day} close were created with a planned "
            f"event per partition ({', '.join(slow[:3])}): dagster-daemon runs without "
            f"{PLANNED_EVENTS_ENV}=1; start it from the project root (its .env sets it) or "
            f"set it in its environment, else a run of 5,000 partitions takes minutes to create",
        )
    if not runs:
        return Finding("run_creation", True, f"no run of the {day} close to judge")
    return Finding(
        "run_creation", True, f"{len(runs)} run(s) of the {day} close planned in one event each"
    )


def health_report(
    database: Lake,
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
            Finding("run_creation", False, skipped),
        ]
    findings.append(check_daemon(instance, now, stale_after))
    findings.append(check_scheduled_sync(instance, job_name, schedule, now, grace))
    findings.append(check_run_creation(instance, job_name, schedule, now, grace))
    return findings
