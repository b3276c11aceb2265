"""The progress channel of runs: one small JSON file per run id under the data directory.

A run's fetch loop publishes its ``RunProgress`` there (``run_tracker``), replaced
atomically at most twice a second; the command line, ``stock-pipeline run --follow`` and
``SyncHandle.progress()`` read it. It costs the run no Dagster event: Dagster writes one
event per partition already, and each costs 13-45 ms on the instance (BENCHMARKS.md, P1
measures this channel's cost). Files older than a week are pruned when a run starts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from stock_pipeline import settings
from stock_pipeline.domain.partition_keys import parse_intraday_keys
from stock_pipeline.domain.planning import plan_intraday_windows
from stock_pipeline.domain.progress import (
    ProgressTracker,
    RunProgress,
    SyncProgress,
    combine,
    symbol_of_key,
)

log = logging.getLogger(__name__)

PROGRESS_ENV = "STOCK_PIPELINE_PROGRESS"
KEEP_SECONDS = 7 * 24 * 3600
_OFF = {"0", "off", "false", "no"}


def progress_enabled() -> bool:
    """Whether runs publish their progress (``STOCK_PIPELINE_PROGRESS=off`` turns it off)."""
    return os.environ.get(PROGRESS_ENV, "").strip().lower() not in _OFF


def progress_dir() -> Path:
    return settings.data_dir() / "progress"


def progress_path(run_id: str) -> Path:
    return progress_dir() / f"{run_id}.json"


def write_progress(snapshot: RunProgress) -> None:
    """Replace the run's file in one step: a reader sees the old snapshot or the new one."""
    path = progress_path(snapshot.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(snapshot.to_json()))
    os.replace(partial, path)


def read_progress(run_id: str) -> RunProgress | None:
    """The run's last published snapshot; None before it published one."""
    try:
        text = progress_path(run_id).read_text()
    except FileNotFoundError:
        return None
    return RunProgress.from_json(json.loads(text))


def planned_price_requests(asset: str, interval: str, keys: Sequence[str]) -> int:
    """Chart requests a run of ``keys`` makes: one per window (intraday), per symbol (daily)."""
    if asset == "intraday_prices":
        cells = [(p.symbol, p.day) for p in parse_intraday_keys(keys)]
        return len(plan_intraday_windows(cells, interval))
    return len({symbol_of_key(k) for k in keys})


def queued_progress(
    run_id: str,
    asset: str,
    interval: str,
    keys: Sequence[str],
    requests_per_second: float | None,
) -> RunProgress:
    """What a run not started yet will do: its totals, nothing done."""
    return RunProgress(
        run_id=run_id,
        asset=asset,
        interval=interval,
        phase="queued",
        updated_at=time.time(),
        symbols_total=len({symbol_of_key(k) for k in keys}),
        partitions_total=len(keys),
        price_requests_planned=planned_price_requests(asset, interval, keys),
        requests_per_second=requests_per_second,
    )


class _FilePublisher:
    """Writes snapshots; after a failed write, says so once and stops (the run goes on)."""

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self._on_error = on_error
        self._broken = False

    def __call__(self, snapshot: RunProgress) -> None:
        if self._broken:
            return
        try:
            write_progress(snapshot)
        except OSError as exc:
            self._broken = True
            self._on_error(
                f"progress of run {snapshot.run_id} not published ({exc}); the run goes on, "
                f"its result is in the run's events as always"
            )


def run_tracker(
    run_id: str,
    keys: Sequence[str],
    asset: str,
    interval: str,
    requests_per_second: float | None,
    on_error: Callable[[str], None] = log.warning,
    rate: Callable[[], float | None] | None = None,
) -> ProgressTracker | None:
    """A tracker publishing to the run's file (None when progress is turned off); ``rate``
    reads the Yahoo rate at each publication (it adapts as the run goes)."""
    if not progress_enabled():
        return None
    prune_progress(on_error)
    tracker = ProgressTracker(
        run_id,
        keys,
        _FilePublisher(on_error),
        asset=asset,
        interval=interval,
        requests_per_second=requests_per_second,
        rate=rate,
    )
    tracker.start()
    return tracker


def prune_progress(on_error: Callable[[str], None] = log.warning) -> int:
    """Delete progress files older than ``KEEP_SECONDS``; how many were deleted."""
    folder = progress_dir()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - KEEP_SECONDS
    deleted = 0
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue  # another run pruned it first
        except OSError as exc:
            on_error(f"could not prune old progress file {path}: {exc}")
            break
    return deleted


class PlanProgress:
    """A foreground sync's progress: its runs in order, each read from its file once started."""

    def __init__(
        self,
        asset: str,
        interval: str,
        runs: Sequence[Sequence[str]],
        requests_per_second: float | None,
    ) -> None:
        self._queued = [
            queued_progress("", asset, interval, keys, requests_per_second) for keys in runs
        ]
        self._run_ids: list[str] = []
        self._finished = 0
        self._last: dict[str, RunProgress] = {}

    def started(self, run_id: str) -> None:
        self._run_ids.append(run_id)

    def finished(self) -> None:
        """The oldest unfinished run ended: its file is read once more, then kept."""
        if self._finished < len(self._run_ids):
            self._last.pop(self._run_ids[self._finished], None)
        self._finished += 1

    def snapshot(self) -> SyncProgress:
        runs: list[RunProgress] = []
        for i, queued in enumerate(self._queued):
            if i < len(self._run_ids):
                run_id = self._run_ids[i]
                found = self._last.get(run_id)
                if run_id not in self._last or i >= self._finished:
                    found = read_progress(run_id) or found
                if found is not None:
                    self._last[run_id] = found
                runs.append(found or queued)
            else:
                runs.append(queued)
        done = self._finished >= len(self._queued)
        return combine(runs, time.time(), self._finished, len(self._queued), done)
