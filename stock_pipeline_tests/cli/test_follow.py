"""Following a run executed elsewhere: ``run RUN_ID --follow`` and ``SyncHandle.progress()``.

The run executes in a thread of the test (as a run worker would: ``execute_in_process`` on
the same instance, tagged as a background run) against a slow fake Yahoo; the follower
reads only the instance and the run's progress file.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from stock_pipeline.background import SyncHandle
from stock_pipeline.cli import main
from stock_pipeline.cli.progress_view import LINE_SECONDS_ENV
from stock_pipeline.definitions import defs
from stock_pipeline.domain.progress import SyncProgress
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.services.run_report import RunReport
from stock_pipeline.services.sync import RunSlice, execute_plan, plan_intraday


def live_line(line: str) -> bool:
    return re.match(r"  live: \d+/\d+ partitions", line) is not None


SYMBOLS = ["AAPL", "MSFT", "IBM", "NVDA", "ORCL", "INTC"]
DAY = "2026-11-25"


class RunInThread:
    """One background-origin sync run of every symbol's DAY, executing in a thread."""

    def __init__(self, instance: dg.DagsterInstance, database: Path) -> None:
        from datetime import date

        plan = plan_intraday(instance, database, None, "5m", [date.fromisoformat(DAY)], False)
        self.run_id: str | None = None
        self.reports: list[RunReport] = []
        started = threading.Event()

        def on_start(run: RunSlice, run_id: str) -> None:
            self.run_id = run_id
            started.set()

        def work() -> None:
            self.reports = execute_plan(
                instance,
                plan,
                defs,
                {"requests_per_second": 2.0},
                origin="background",
                on_start=on_start,
            )

        self.thread = threading.Thread(target=work)
        self.thread.start()
        assert started.wait(60)
        deadline = time.monotonic() + 60
        while instance.get_run_by_id(self.run_id or "") is None:
            assert time.monotonic() < deadline, "the run was never created"
            time.sleep(0.05)


@pytest.fixture
def running(
    fake_yahoo: FakeYahoo,
    isolated_paths: Path,
    duckdb_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[dg.DagsterInstance, RunInThread]]:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    home = isolated_paths / "dagster_home"
    home.mkdir(parents=True)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", SYMBOLS)
        run = RunInThread(instance, duckdb_file)
        try:
            yield instance, run
        finally:
            run.thread.join(timeout=300)


@pytest.mark.fake_yahoo(latency_seconds=0.3)
def test_run_follow_shows_live_progress_then_the_summary(
    running: tuple[dg.DagsterInstance, RunInThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run = running
    assert run.run_id is not None
    monkeypatch.setenv(LINE_SECONDS_ENV, "0.5")
    result = CliRunner().invoke(main, ["run", run.run_id[:8], "--follow", "--tail", "0"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"following run {run.run_id}")
    live = [re.match(r"  live: (\d+)/(\d+) partitions", line) for line in lines]
    counts = [(int(m[1]), int(m[2])) for m in live if m]
    assert any(0 <= done < 6 for done, _ in counts), result.output  # seen while running
    assert counts[-1] == (6, 6) and all(total == 6 for _, total in counts)
    waiting = [i for i, line in enumerate(lines) if "waiting for the run to start" in line]
    assert all(i < lines.index(next(line for line in lines if live_line(line))) for i in waiting)
    summary = lines.index(f"run {run.run_id} (intraday_prices_job)")
    assert summary > max(i for i, m in enumerate(live) if m)  # the summary comes after
    assert "status:     succeeded" in result.output
    assert "stored:     6 partition(s)" in result.output
    assert "limit 2 req/s" in result.output


@pytest.mark.fake_yahoo(latency_seconds=0.3)
def test_handle_progress_during_and_after_a_run(
    running: tuple[dg.DagsterInstance, RunInThread],
) -> None:
    instance, run = running
    assert run.run_id is not None
    handle = SyncHandle([run.run_id], instance)
    seen: list[SyncProgress] = []
    while run.thread.is_alive():
        seen.append(handle.progress())
        time.sleep(0.2)
    run.thread.join()
    during = [p for p in seen if not p.finished]
    assert during and all(p.partitions_total == 6 for p in during if p.partitions_total)
    assert any(0 < p.partitions_done < 6 for p in during) or any(
        p.partitions_done == 0 and p.eta_seconds is not None for p in during
    )
    assert all(p.requests_per_second == 2.0 for p in during if p.partitions_total)
    after = handle.progress()
    (report,) = run.reports
    assert after.finished and after.runs_finished == after.runs_total == 1
    assert (after.partitions_done, after.partitions_total, after.failed) == (6, 6, 0)
    assert (after.symbols_done, after.symbols_total) == (6, 6)
    assert after.rows == report.rows > 0 and after.requests == report.requests
    assert after.eta_seconds == 0.0 and after.elapsed > 0
