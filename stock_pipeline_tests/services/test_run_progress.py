"""The progress channel's files: written whole, read back, pruned, off when asked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from stock_pipeline.domain.progress import RunProgress
from stock_pipeline.services.run_progress import (
    KEEP_SECONDS,
    PROGRESS_ENV,
    PlanProgress,
    planned_price_requests,
    progress_dir,
    progress_path,
    prune_progress,
    read_progress,
    run_tracker,
    write_progress,
)

KEYS = [f"2026-11-{d}|{s}" for s in ("AAPL", "MSFT") for d in (24, 25)]


def test_a_snapshot_is_read_back_as_written_and_no_partial_file_stays() -> None:
    assert read_progress("r1") is None
    snapshot = RunProgress("r1", asset="intraday_prices", partitions_total=4, rows=12)
    write_progress(snapshot)
    write_progress(RunProgress("r1", asset="intraday_prices", partitions_total=4, rows=99))
    assert read_progress("r1") == RunProgress(
        "r1", asset="intraday_prices", partitions_total=4, rows=99
    )
    assert [p.name for p in progress_dir().iterdir()] == ["r1.json"]


def test_a_run_tracker_publishes_its_totals_at_once_then_its_progress() -> None:
    tracker = run_tracker("r2", KEYS, "intraday_prices", "5m", 4.0)
    assert tracker is not None
    started = read_progress("r2")
    assert started is not None and started.phase == "fetching"
    assert (started.partitions_total, started.symbols_total, started.partitions_done) == (4, 2, 0)
    assert started.requests_per_second == 4.0 and started.started_at is not None
    tracker.window(dict.fromkeys(KEYS, 78), {}, requests=2)
    tracker.finish_fetch()
    ended = read_progress("r2")
    assert ended is not None and ended.phase == "storing"
    assert (ended.partitions_done, ended.symbols_done, ended.rows) == (4, 2, 312)


def test_progress_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROGRESS_ENV, "off")
    assert run_tracker("r3", KEYS, "intraday_prices", "5m", 4.0) is None
    assert not progress_path("r3").exists()


def test_a_progress_file_that_cannot_be_written_is_reported_once_and_the_run_goes_on(
    isolated_paths: Path,
) -> None:
    isolated_paths.mkdir(parents=True, exist_ok=True)
    progress_dir().write_text("a file where the folder should be")
    errors: list[str] = []
    tracker = run_tracker("r4", KEYS, "intraday_prices", "5m", 4.0, on_error=errors.append)
    assert tracker is not None
    tracker.window(dict.fromkeys(KEYS, 78), {}, requests=2)
    tracker.finish_fetch()
    assert len(errors) == 1 and "progress of run r4 not published" in errors[0]
    assert tracker.state.partitions_done == 4  # still counted


def test_files_older_than_a_week_are_pruned() -> None:
    write_progress(RunProgress("old"))
    write_progress(RunProgress("new"))
    week_ago = time.time() - KEEP_SECONDS - 60
    os.utime(progress_path("old"), (week_ago, week_ago))
    assert prune_progress() == 1
    assert read_progress("old") is None and read_progress("new") is not None


def test_planned_requests_are_one_per_intraday_window_or_per_symbol_for_daily_bars() -> None:
    assert planned_price_requests("intraday_prices", "5m", KEYS) == 2  # two days, one window
    assert planned_price_requests("daily_prices", "1d", ["2025|AAPL", "2026|AAPL"]) == 1


def test_a_plan_shows_queued_runs_totals_and_started_runs_files() -> None:
    watched = PlanProgress("intraday_prices", "5m", [KEYS[:2], KEYS[2:]], 5.0)
    before = watched.snapshot()
    assert (before.partitions_total, before.partitions_done, before.runs_total) == (4, 0, 2)
    assert before.eta_seconds == pytest.approx(2 / 5.0)  # two windows at 5 per second
    watched.started("p1")
    tracker = run_tracker("p1", KEYS[:2], "intraday_prices", "5m", 5.0)
    assert tracker is not None
    assert watched.snapshot().partitions_done == 0  # read while the run fetches
    tracker.window(dict.fromkeys(KEYS[:2], 78), {}, requests=1)
    tracker.finish_fetch()
    watched.finished()  # the run's last snapshot is read again, not the one seen before
    middle = watched.snapshot()
    assert (middle.partitions_done, middle.rows, middle.runs_finished) == (2, 156, 1)
    assert not middle.finished
    watched.started("p2")
    watched.finished()  # a run that failed before publishing anything
    after = watched.snapshot()
    assert after.finished and after.partitions_total == 4 and after.partitions_done == 2
