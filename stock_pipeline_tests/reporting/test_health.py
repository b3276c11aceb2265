from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._daemon.types import DaemonHeartbeat

from stock_pipeline.domain.run_keys import PLANNED_EVENTS_ENV, RANGE_END_TAG, RANGE_START_TAG
from stock_pipeline.domain.trading_calendar import session_close
from stock_pipeline.reporting.health import (
    SCHEDULE_NAME_TAG,
    SCHEDULED_TIME_TAG,
    check_daemon,
    check_run_creation,
    check_scheduled_sync,
    check_warehouse,
    health_report,
    judge_close_runs,
    last_closed_session,
    open_instance,
    stale_daemons,
)
from stock_pipeline.warehouse.tables import connect

NY = ZoneInfo("America/New_York")
JOB, SCHEDULE = "intraday_prices_job", "intraday_hourly_schedule"
WED = date(2026, 11, 25)
AFTER_WED_CLOSE = datetime(2026, 11, 25, 17, 0, tzinfo=NY)
FIVE_MINUTES = timedelta(minutes=5)


def test_a_missing_or_corrupt_warehouse_is_unreadable(tmp_path: Path) -> None:
    missing = check_warehouse(tmp_path / "none.duckdb")
    assert not missing.ok and "does not exist" in missing.detail
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a duckdb file" * 100)
    found = check_warehouse(corrupt)
    assert not found.ok and "unreadable" in found.detail


def test_a_readable_warehouse_reports_its_rows(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        con.execute("SELECT 1")
    found = check_warehouse(duckdb_file)
    assert found.ok and "0 intraday rows" in found.detail


def test_unreachable_postgres_storage_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_db:\n      hostname: 127.0.0.1\n"
        "      port: 9\n      username: nobody\n      db_name: nothing\n"
    )
    found, instance = open_instance(lambda: dg.DagsterInstance.from_config(str(tmp_path)))
    assert instance is None
    assert not found.ok and "storage unreachable" in found.detail


def test_a_working_instance_is_reachable(instance: dg.DagsterInstance) -> None:
    found, opened = open_instance(lambda: instance)
    assert found.ok and opened is instance


def test_stale_and_missing_heartbeats_are_named() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    beats = {"SCHEDULER": now.timestamp() - 30, "SENSOR": now.timestamp() - 600}
    found = stale_daemons(
        ["SCHEDULER", "SENSOR", "BACKFILL"], beats, now, stale_after=timedelta(minutes=2)
    )
    assert found == {"SENSOR": "last heartbeat 600 s ago", "BACKFILL": "never sent a heartbeat"}


def beat_all(instance: dg.DagsterInstance, at: datetime) -> None:
    for daemon in instance.get_required_daemon_types():
        instance.add_daemon_heartbeat(DaemonHeartbeat(at.timestamp(), daemon, None, None))


def test_the_daemon_is_judged_by_its_heartbeats(instance: dg.DagsterInstance) -> None:
    now = datetime.now(UTC)
    assert not check_daemon(instance, now, timedelta(minutes=2)).ok  # none yet
    beat_all(instance, now - timedelta(seconds=20))
    assert check_daemon(instance, now, timedelta(minutes=2)).ok
    later = check_daemon(instance, now + timedelta(minutes=10), timedelta(minutes=2))
    assert not later.ok and "SCHEDULER last heartbeat" in later.detail


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (datetime(2026, 11, 25, 16, 20, tzinfo=NY), date(2026, 11, 24)),  # within the grace
        (datetime(2026, 11, 25, 16, 31, tzinfo=NY), WED),
        (datetime(2026, 11, 26, 12, 0, tzinfo=NY), WED),  # Thanksgiving
        (datetime(2026, 11, 27, 13, 31, tzinfo=NY), date(2026, 11, 27)),  # early close
        (datetime(2026, 11, 27, 23, 30, tzinfo=NY), date(2026, 11, 27)),  # Saturday in UTC
        (datetime(2026, 11, 30, 9, 0, tzinfo=NY), date(2026, 11, 27)),
    ],
)
def test_the_day_judged_is_the_latest_closed_session(now: datetime, day: date) -> None:
    assert last_closed_session(now, timedelta(minutes=30)) == day


def test_close_runs_must_exist_and_succeed() -> None:
    missing = judge_close_runs(WED, SCHEDULE, [])
    assert not missing.ok and "no run was launched" in missing.detail and "16:00" in missing.detail
    failed = judge_close_runs(
        WED, SCHEDULE, [("a", dg.DagsterRunStatus.SUCCESS), ("b", dg.DagsterRunStatus.FAILURE)]
    )
    assert not failed.ok and "1 of 2 run(s)" in failed.detail and "b" in failed.detail
    running = judge_close_runs(WED, SCHEDULE, [("a", dg.DagsterRunStatus.STARTED)])
    assert not running.ok and "has not finished" in running.detail
    assert judge_close_runs(WED, SCHEDULE, [("a", dg.DagsterRunStatus.SUCCESS)]).ok


def scheduled_run(
    instance: dg.DagsterInstance, tick: datetime, status: dg.DagsterRunStatus
) -> None:
    instance.add_run(
        dg.DagsterRun(
            job_name=JOB,
            status=status,
            tags={
                SCHEDULE_NAME_TAG: SCHEDULE,
                SCHEDULED_TIME_TAG: tick.astimezone(UTC).isoformat(),
            },
        )
    )


def test_the_close_tick_s_runs_are_found_by_their_tick(instance: dg.DagsterInstance) -> None:
    hourly = datetime(2026, 11, 25, 15, 30, tzinfo=NY)
    close = datetime(2026, 11, 25, 16, 0, tzinfo=NY)
    scheduled_run(instance, hourly, dg.DagsterRunStatus.SUCCESS)
    assert not check_scheduled_sync(instance, JOB, SCHEDULE, AFTER_WED_CLOSE, FIVE_MINUTES).ok
    scheduled_run(instance, close, dg.DagsterRunStatus.FAILURE)
    failed = check_scheduled_sync(instance, JOB, SCHEDULE, AFTER_WED_CLOSE, FIVE_MINUTES)
    assert not failed.ok and "failed" in failed.detail
    scheduled_run(instance, datetime(2026, 11, 27, 13, 0, tzinfo=NY), dg.DagsterRunStatus.SUCCESS)
    early = datetime(2026, 11, 27, 14, 0, tzinfo=NY)
    assert check_scheduled_sync(instance, JOB, SCHEDULE, early, FIVE_MINUTES).ok


def test_a_healthy_deployment_reports_every_finding_ok(
    instance: dg.DagsterInstance, duckdb_file: Path
) -> None:
    with connect(duckdb_file) as con:
        con.execute("SELECT 1")
    now = datetime.now(UTC)
    beat_all(instance, now)
    close = session_close(last_closed_session(now, FIVE_MINUTES))
    scheduled_run(instance, close, dg.DagsterRunStatus.SUCCESS)
    findings = health_report(duckdb_file, lambda: instance, JOB, SCHEDULE, now, grace=FIVE_MINUTES)
    assert [(f.name, f.ok) for f in findings] == [
        ("warehouse", True),
        ("instance", True),
        ("daemon", True),
        ("scheduled_sync", True),
        ("run_creation", True),
    ]


def test_close_runs_created_with_a_planned_event_per_partition_are_named(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon without the switch creates runs the slow way; health says so and how."""
    from stock_pipeline.definitions import defs

    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "IBM"])
    job = defs.resolve_job_def(JOB)
    close = datetime(2026, 11, 25, 16, 0, tzinfo=NY)
    tags = {
        SCHEDULE_NAME_TAG: SCHEDULE,
        SCHEDULED_TIME_TAG: close.astimezone(UTC).isoformat(),
        RANGE_START_TAG: "2026-11-25|AAPL",
        RANGE_END_TAG: "2026-11-25|IBM",
    }
    none = check_run_creation(instance, JOB, SCHEDULE, AFTER_WED_CLOSE, FIVE_MINUTES)
    assert none.ok and "no run" in none.detail
    instance.create_run_for_job(job_def=job, tags=tags)  # this process has the switch on
    fine = check_run_creation(instance, JOB, SCHEDULE, AFTER_WED_CLOSE, FIVE_MINUTES)
    assert fine.ok and "1 run(s)" in fine.detail
    monkeypatch.setenv(PLANNED_EVENTS_ENV, "0")
    slow_run = instance.create_run_for_job(job_def=job, tags=tags)
    slow = check_run_creation(instance, JOB, SCHEDULE, AFTER_WED_CLOSE, FIVE_MINUTES)
    assert not slow.ok
    assert "1 of 2 run(s)" in slow.detail and slow_run.run_id in slow.detail
    assert f"{PLANNED_EVENTS_ENV}=1" in slow.detail and "project root" in slow.detail
