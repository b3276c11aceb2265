"""The production instance (deploy/dagster.yaml) on a real PostgreSQL with a real daemon.

A database made for this test on 127.0.0.1:5432 (user postgres, trust auth), dropped after.
The daemon loads the project's definitions plus an every-minute schedule
(``deploy_location``); the schedule's tick launches a run of the project's intraday job
against the fake Yahoo; the daemon is then restarted and the schedule must still be
running, with its tick history, and tick again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorState, InstigatorType, TickStatus

from stock_pipeline.domain.run_keys import PLANNED_EVENTS_ENV
from stock_pipeline.reporting.health import (
    SCHEDULED_TIME_TAG,
    check_daemon,
    planned_per_partition,
)
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.deploy_location import EVERY_MINUTE
from stock_pipeline_tests.support.postgres import scratch_database

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent  # the project environment's dagster commands
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, logs: Path) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail(logs)}")


def tail(logs: Path, lines: int = 60) -> str:
    text = []
    for log in sorted(logs.glob("*.log")):
        content = log.read_text(errors="replace").splitlines()[-lines:]
        text.append(f"--- {log.name}\n" + "\n".join(content))
    return "\n".join(text)


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_database() as name:
        yield name


class Processes:
    """Started process groups, all killed at the end whatever happened."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []
        self.files: list[IO[Any]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{len(self.started)}-{name}.log").open("ab")
        self.files.append(log)
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group: code servers and runs too
            proc.wait(timeout=30)
        for log in self.files:
            log.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Processes(logs)
    try:
        yield started
    finally:
        started.kill_all()


def schedule_state(instance: dg.DagsterInstance) -> InstigatorState | None:
    states = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    return next((s for s in states if s.instigator_name == EVERY_MINUTE), None)


def test_daemon_on_postgres_runs_a_schedule_and_survives_a_restart(
    database: str,
    processes: Processes,
    tmp_path: Path,
    fake_yahoo: Any,
    duckdb_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DIR / "deploy" / "dagster.yaml", home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n"
        "      module_name: stock_pipeline_tests.support.deploy_location\n"
        "      location_name: stock_pipeline\n"
        f"      working_directory: {PROJECT_DIR}\n"
    )
    settings = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
        "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url,
        "STOCK_PIPELINE_WAREHOUSE": str(duckdb_file),
        "STOCK_PIPELINE_DATA_DIR": str(duckdb_file.parent),
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    fake_yahoo.config.now = None  # the daemon ticks on the real clock; so does the fake
    # The switch for one planned event per run reaches the daemon only through the
    # project's .env, which Dagster's commands load from the directory they start in.
    env = {k: v for k, v in {**os.environ, **settings}.items() if k != PLANNED_EVENTS_ENV}
    daemon_args = [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]

    instance = dg.DagsterInstance.from_config(str(home))
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    daemon = processes.start("daemon", daemon_args, env)
    start = subprocess.run(
        [str(BIN / "dagster"), "schedule", "start", EVERY_MINUTE, "-w", str(workspace)],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert start.returncode == 0, start.stdout + start.stderr

    # A tick launches a run through the queue; the run materializes the partition.
    def succeeded_run() -> dg.DagsterRun | None:
        runs = instance.get_runs(
            filters=dg.RunsFilter(
                tags={"dagster/schedule_name": EVERY_MINUTE},
                statuses=[dg.DagsterRunStatus.SUCCESS],
            )
        )
        return runs[0] if runs else None

    run = wait_for("a scheduled run to succeed", succeeded_run, 180, processes.logs)
    partition = run.tags["dagster/partition"]
    assert partition.endswith("|AAPL")
    assert SCHEDULED_TIME_TAG in run.tags  # what `stock-pipeline health` relies on
    assert not planned_per_partition(instance, run.run_id)  # the daemon read .env
    materialized = instance.get_materialized_partitions(dg.AssetKey("intraday_prices"))
    assert partition in materialized
    with connect(duckdb_file, read_only=True) as con:
        (rows,) = con.execute("SELECT count(*) FROM intraday_prices").fetchone() or (0,)
    assert rows > 0
    assert check_daemon(instance, datetime.now(UTC), stale_after=timedelta(minutes=2)).ok

    state = schedule_state(instance)
    assert state is not None and state.status.value == "RUNNING"
    ticks_before = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    assert any(t.status == TickStatus.SUCCESS and run.run_id in t.run_ids for t in ticks_before)

    # Restart the daemon the way systemd does (SIGTERM to the daemon itself).
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=90)
    restarted_at = time.time()
    processes.start("daemon-restarted", daemon_args, env)

    state = schedule_state(instance)
    assert state is not None and state.status.value == "RUNNING"

    def new_tick() -> Any:
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
        return next((t for t in ticks if t.timestamp > restarted_at), None)

    tick = wait_for("a tick after the restart", new_tick, 150, processes.logs)
    assert tick.status in (TickStatus.SUCCESS, TickStatus.STARTED)
    ticks_after = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    kept = {t.tick_id for t in ticks_before}
    assert kept <= {t.tick_id for t in ticks_after}  # nothing of the history was lost
    instance.dispose()
