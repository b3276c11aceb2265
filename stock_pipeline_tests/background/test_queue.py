"""Submitted syncs run under a real dagster-daemon: queued, launched, reported through the handle.

One daemon for the module (it takes ~20 s to come up): a temporary DAGSTER_HOME with the
QueuedRunCoordinator, one DuckDB file, the fake Yahoo, the suite's pinned clock. The daemon
and everything it started (code server, run processes) share a process group that is
always terminated at the end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from stock_pipeline import settings
from stock_pipeline.background import (
    JobStatus,
    SyncHandle,
    SyncResult,
    submit_historical_sync,
    submit_intraday_sync,
    submit_symbol_sync,
)
from stock_pipeline.background.daemon import QUEUE_DAEMON
from stock_pipeline.fake_yahoo import FakeYahoo, FakeYahooConfig
from stock_pipeline.fake_yahoo.config import DEFAULT_TEST_NOW
from stock_pipeline.warehouse.tables import connect

pytestmark = pytest.mark.integration

DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 4
    dequeue_interval_seconds: 1
"""
STARTUP_SECONDS = 180
RUN_SECONDS = 240


@dataclass
class Daemon:
    instance: dg.DagsterInstance
    home: Path
    data: Path
    database: Path
    fake: FakeYahoo
    log: Path

    def wait(self, handle: SyncHandle) -> SyncResult:
        """The handle's result, or a failure showing the end of the daemon's log."""
        try:
            return handle.wait(timeout=RUN_SECONDS, poll_interval=0.5)
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n--- daemon log ---\n{self.log.read_text()[-6000:]}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with connect(self.database, read_only=True) as con:
            return con.execute(sql).fetchall()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the daemon and every process it started (its process group, made here)."""
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("daemon")
    home, data = root / "dagster_home", root / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    database = data / "warehouse"
    log = root / "daemon.log"
    with (
        FakeYahoo(FakeYahooConfig(now=DEFAULT_TEST_NOW)) as fake,
        dg.DagsterInstance.from_config(str(home)) as instance,
    ):
        instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "STOCK_PIPELINE_DATA_DIR": str(data),
            "STOCK_PIPELINE_WAREHOUSE": str(database),
            "STOCK_PIPELINE_YAHOO_URL": fake.url,
            "STOCK_PIPELINE_NOW": os.environ["STOCK_PIPELINE_NOW"],  # set by conftest
        }
        env.pop("STOCK_PIPELINE_EAGER", None)
        executable = Path(sys.executable).parent / "dagster-daemon"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(executable), "run", "-w", "workspace.yaml"],
                cwd=settings.PROJECT_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while QUEUE_DAEMON not in instance.get_daemon_heartbeats():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dagster-daemon did not start:\n{log.read_text()[-6000:]}")
                time.sleep(0.5)
            yield Daemon(instance, home, data, database, fake, log)
        finally:
            _stop(process)


@pytest.fixture(autouse=True)
def daemon_environment(
    daemon: Daemon, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process plans against the daemon's instance and DuckDB file."""
    monkeypatch.setenv("DAGSTER_HOME", str(daemon.home))
    monkeypatch.setenv("STOCK_PIPELINE_DATA_DIR", str(daemon.data))
    monkeypatch.setenv("STOCK_PIPELINE_WAREHOUSE", str(daemon.database))
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", daemon.fake.url)
    monkeypatch.delenv("STOCK_PIPELINE_EAGER", raising=False)


def _events(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """The run's Dagster events by type name (the first of each), with their timestamps."""
    events: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        if entry.dagster_event:
            events.setdefault(entry.dagster_event.event_type.name, entry.timestamp)
    return events


def test_a_submitted_sync_is_queued_then_run_and_reports_stored_rows(daemon: Daemon) -> None:
    handle = submit_intraday_sync(
        ["AAPL", "MSFT"], start="2026-11-23", end="2026-11-25", instance=daemon.instance
    )
    assert len(handle.run_ids) == 1  # 2 symbols × 3 days in one range run
    assert handle.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    result = daemon.wait(handle)
    assert result.status == JobStatus.SUCCEEDED and handle.ready()
    events = _events(daemon.instance, handle.run_ids[0])
    assert events["RUN_ENQUEUED"] < events["RUN_STARTING"] < events["RUN_START"]  # by the daemon
    stored = {
        str(key): int(count)
        for key, count in daemon.rows(
            "SELECT session_date::VARCHAR || '|' || symbol, count(*) FROM intraday_prices "
            "WHERE interval = '5m' GROUP BY ALL"
        )
    }
    assert {k: p.rows for k, p in result.partitions.items()} == stored
    assert len(stored) == 6 and all(70 < n <= 78 for n in stored.values())
    assert result.rows == sum(stored.values()) and result.failed == {}
    assert result.requests > 0
    run = daemon.instance.get_run_by_id(handle.run_ids[0])
    assert run is not None and run.tags["stock_pipeline/origin"] == "background"


def test_an_unknown_symbol_reports_its_failure_through_the_handle(daemon: Daemon) -> None:
    daemon.instance.add_dynamic_partitions("symbols", ["ZZGONE"])  # no Yahoo check
    handle = submit_symbol_sync("ZZGONE", instance=daemon.instance)
    result = daemon.wait(handle)
    assert handle.status == JobStatus.FAILED and result.status == JobStatus.FAILED
    assert list(result.failed) == ["2026-11-25|ZZGONE"]
    assert result.failed["2026-11-25|ZZGONE"].startswith("SymbolNotFoundError")
    assert result.by_symbol()["ZZGONE"].rows == 0 and result.partitions == {}


def test_two_submissions_at_once_both_complete_against_one_duckdb_file(daemon: Daemon) -> None:
    intraday = submit_intraday_sync(
        ["AAPL"], interval="15m", start="2026-11-20", end="2026-11-25", instance=daemon.instance
    )
    history = submit_historical_sync(["MSFT"], period="2y", instance=daemon.instance)
    first, second = daemon.wait(intraday), daemon.wait(history)
    assert first.succeeded and second.succeeded
    assert len(first.partitions) == 4 and len(second.partitions) == 3  # 4 sessions; 3 years
    (intraday_rows,) = daemon.rows(
        "SELECT count(*) FROM intraday_prices WHERE symbol = 'AAPL' AND interval = '15m'"
    )
    (daily_rows,) = daemon.rows("SELECT count(*) FROM daily_prices WHERE symbol = 'MSFT'")
    assert intraday_rows[0] == first.rows > 0 and daily_rows[0] == second.rows > 500
    # Both waited in the queue together before either started: two submissions at once.
    events = [_events(daemon.instance, r) for r in (*intraday.run_ids, *history.run_ids)]
    assert max(e["RUN_ENQUEUED"] for e in events) < min(e["RUN_START"] for e in events)


def test_a_background_run_is_followed_live_then_summarised(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``handle.progress()`` knows a queued run's totals; ``run --follow`` shows the run
    the daemon launched going, then its summary; afterwards the handle shows it all done."""
    from click.testing import CliRunner

    from stock_pipeline.cli import main
    from stock_pipeline.cli.progress_view import LINE_SECONDS_ENV

    monkeypatch.setenv(LINE_SECONDS_ENV, "0.5")
    daemon.fake.config.latency_seconds = 0.5  # slow enough to be seen fetching
    try:
        handle = submit_intraday_sync(
            ["AAPL", "MSFT"],
            interval="30m",
            start="2026-11-20",
            end="2026-11-25",
            delay=0.5,
            instance=daemon.instance,
        )
        queued = handle.progress()
        assert (queued.partitions_total, queued.partitions_done) == (8, 0)
        assert queued.requests_per_second == 2.0 and not queued.finished
        assert handle.run_id is not None
        followed = CliRunner().invoke(main, ["run", handle.run_id, "--follow", "--tail", "0"])
    finally:
        daemon.fake.config.latency_seconds = 0.0
    assert followed.exit_code == 0, followed.output
    lines = followed.output.splitlines()
    counts = [
        (int(m[1]), int(m[2]))
        for m in (re.match(r"  live: (\d+)/(\d+) partitions", line) for line in lines)
        if m
    ]
    assert counts and counts[-1] == (8, 8) and all(total == 8 for _, total in counts)
    assert counts[0][0] < 8, followed.output  # seen before the run had fetched everything
    assert lines.index(f"run {handle.run_id} (intraday_prices_job)") > len(counts)
    assert "status:     succeeded" in followed.output
    after = handle.progress()
    assert after.finished and (after.partitions_done, after.symbols_done) == (8, 2)
    assert after.rows == daemon.wait(handle).rows > 0
