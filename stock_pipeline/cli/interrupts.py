"""Ctrl-C and SIGTERM for foreground syncs: stop within seconds, say so, leave no run open.

Why a worker thread: ``execute_in_process`` on the main thread swaps in Dagster's own
SIGINT/SIGTERM handlers, which only record the signal, and Dagster answers an interrupt
inside a step with a step *retry* when the step has a RetryPolicy — so a signal was
ignored, the step ran again 20 s later, and a second signal met the same fate. Run on a
worker thread, Dagster leaves the handlers alone; the main thread keeps these handlers,
which ask every wait of the sync to end (``domain.stopping``: Yahoo back-off, rate limit,
circuit breaker, warehouse lock) and then wait at most ``GRACE_SECONDS`` for the worker.
Whatever run is still unfinished then (e.g. Dagster sleeping before a step retry) is
marked failed by this process, and the command exits 130 (SIGINT) or 143 (SIGTERM).
A write is one DuckDB transaction: it is stored whole or not at all.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from stock_pipeline.domain import stopping

if TYPE_CHECKING:
    from pathlib import Path

    import dagster as dg

    from stock_pipeline.warehouse.lake import Lake

T = TypeVar("T")
GRACE_SECONDS = 3.0
POLL_SECONDS = 0.1
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SyncInterrupted(Exception):
    """The sync was stopped by a signal; ``finished``: the worker ended within the grace."""

    def __init__(self, signal_name: str, exit_code: int, finished: bool) -> None:
        super().__init__(f"{signal_name} received")
        self.signal_name = signal_name
        self.exit_code = exit_code
        self.finished = finished


def run_stoppable(work: Callable[[], T], grace: float = GRACE_SECONDS) -> T:
    """``work()`` on a worker thread; SIGINT/SIGTERM stop it (``SyncInterrupted``)."""
    if threading.current_thread() is not threading.main_thread():
        return work()  # signals are the main thread's; nothing to take over here
    outcome: dict[str, object] = {}
    received: list[int] = []

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        received.append(signum)
        if len(received) == 1:
            # Said (and flushed) before the stop is requested: once it is, the worker's
            # waits end at once and their reports must not come before this line.
            click.echo(
                f"stopping: {name} received; ending the sync within {grace:.0f} s "
                f"(send it again to end at once)",
                err=True,
            )
            sys.stderr.flush()
        stopping.request_stop(f"{name} received")

    stopping.clear()
    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    worker = threading.Thread(target=target, name="stock-pipeline-sync", daemon=True)
    try:
        worker.start()
        stop_deadline: float | None = None
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if received and stop_deadline is None:
                stop_deadline = time.monotonic() + grace
            if stop_deadline is not None and (
                time.monotonic() >= stop_deadline or len(received) > 1
            ):
                break
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        name = signal.Signals(received[0]).name
        raise SyncInterrupted(name, 128 + received[0], finished=not worker.is_alive())
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def finish_interrupted(stop: SyncInterrupted, runs_done: int, runs_planned: int) -> NoReturn:
    """Close this process's unfinished runs, print what happened, exit 130/143."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.run_owner import end_runs, unfinished_runs_of

    instance = get_instance()
    ended = end_runs(
        instance,
        unfinished_runs_of(instance, os.getpid()),
        f"stopped by {stop.signal_name} (stock-pipeline pid {os.getpid()}); a write is "
        f"all or nothing, so stored rows are as they were or the run's whole write",
    )
    left = (
        f"run {', '.join(r.run_id[:8] for r in ended)} marked failed"
        if ended
        else "no run left open"
    )
    if runs_planned:
        click.echo(
            f"stopped: {stop.signal_name} received after {runs_done} of {runs_planned} "
            f"run(s); {left}; stored rows unchanged (a write is stored whole or not at all)",
            err=True,
        )
    else:
        click.echo(
            f"stopped: {stop.signal_name} received while planning; nothing was run or stored",
            err=True,
        )
    if not stop.finished:
        click.echo(
            f"  (the run did not end within {GRACE_SECONDS:.0f} s of the signal, e.g. while "
            f"Dagster waited to retry a step; this process ended it)",
            err=True,
        )
    sys.stdout.flush()
    sys.stderr.flush()
    # The worker thread may still sleep inside Dagster; leave without waiting for it.
    os._exit(stop.exit_code)


class _NoticeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


@contextmanager
def notices_on_stderr() -> Iterator[None]:
    """Show the project's warnings (retrying, waiting for the warehouse) on stderr."""
    logger = logging.getLogger("stock_pipeline")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_NoticeFormatter())
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def reconcile_orphan_runs(instance: dg.DagsterInstance) -> None:
    """End runs left open by a dead stock-pipeline process, and say so on stderr."""
    from stock_pipeline.services.run_owner import reconcile_orphans

    for run in reconcile_orphans(instance):
        click.echo(
            f"note: run {run.run_id[:8]} was left {run.was} by {run.owner}, which is gone; "
            f"marked {run.now}",
            err=True,
        )


# A run writes its Parquet files and the catalog's WAL only at its end (after Yahoo was
# asked): below this a write would fail then, so a sync is refused up front instead.
MIN_FREE_BYTES = 16 * 2**20


def existing_parent(path: Path) -> Path:
    return next(p for p in path.parents if p.exists())


def full_disk(lake: Lake) -> str | None:
    """Why a sync cannot store into ``lake``'s local disk (under 16 MiB free), else None."""
    local = [p for p in (lake.sqlite_file, lake.local_data_dir) if p is not None]
    if not local:
        return None
    folder = local[-1] if local[-1].exists() else existing_parent(local[-1])
    disk = os.statvfs(folder)
    free = disk.f_bavail * disk.f_frsize
    if free >= MIN_FREE_BYTES:
        return None
    return (
        f"the disk holding the warehouse {lake} is full ({free // 1024} KiB free; a "
        f"sync needs at least {MIN_FREE_BYTES // 2**20} MiB for its Parquet files); "
        f"free space and run again; nothing was changed"
    )


def apply_sync_settings(lock_timeout: float | None) -> None:
    """--lock-timeout for this process, and settings checked before anything runs."""
    import duckdb

    from stock_pipeline import settings
    from stock_pipeline.defs.resources import YAHOO_URL_ENV
    from stock_pipeline.domain.errors import StockPipelineError
    from stock_pipeline.warehouse.commits import BUSY_ERRORS
    from stock_pipeline.warehouse.lake import Lake
    from stock_pipeline.warehouse.tables import connect, unreadable
    from stock_pipeline.yahoo.client import check_base_url

    if lock_timeout is not None:
        os.environ["STOCK_PIPELINE_LOCK_TIMEOUT"] = repr(lock_timeout)
    settings.lock_timeout()
    check_base_url(os.environ.get(YAHOO_URL_ENV) or None)
    database = Lake.from_settings()
    if database.exists():  # a damaged or foreign catalog fails now, before any Yahoo request
        try:
            with connect(database, read_only=True, wait_seconds=0) as con:
                con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
        except BUSY_ERRORS:
            pass  # busy with other commits: the sync retries its writes later
        except duckdb.Error as exc:
            # An embedded catalog is read in WAL mode, which writes beside it even to read:
            # on a full disk the read fails, and that is not damage.
            full = full_disk(database)
            if full:
                raise StockPipelineError(full) from exc
            raise unreadable(database, exc) from exc
