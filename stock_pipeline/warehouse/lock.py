"""One holder at a time across this machine's processes: an advisory file lock.

The warehouse no longer needs it (a DuckLake lets readers and writers of many processes
work at once; see ``stock_pipeline.warehouse.lake``). What still does: the runs of one
backfill take turns on its shared fetch manifest (``defs/assets/backfill_windows.py``).
``<path>.lock`` is held exclusively, or shared by readers. The kernel drops the lock if a
process dies.

Within one thread the lock is re-entrant for the same or a weaker mode, so a read inside
a write does not deadlock; upgrading a shared lock to an exclusive one is refused.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WarehouseLockTimeout(RuntimeError):
    """Another process held the warehouse lock for longer than we are willing to wait."""


_held = threading.local()


def _held_modes() -> dict[str, bool]:
    """Lock files this thread holds: path -> exclusive."""
    modes: dict[str, bool] | None = getattr(_held, "modes", None)
    if modes is None:
        modes = {}
        _held.modes = modes
    return modes


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def warehouse_lock(database: Path, exclusive: bool, wait_seconds: float) -> Iterator[None]:
    """Hold the database's lock file, shared or exclusive, waiting up to ``wait_seconds``."""
    path = lock_path(database)
    key = str(path.resolve())
    held = _held_modes()
    if key in held:
        if exclusive and not held[key]:
            raise RuntimeError(
                f"{database}: a read-write connection was opened inside a read-only one in "
                f"the same thread; open the read-write connection first"
            )
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, exclusive, wait_seconds, database)
        held[key] = exclusive
        try:
            yield
        finally:
            del held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, exclusive: bool, wait_seconds: float, database: Path) -> None:
    """flock with a deadline: short sleeps, growing to 0.1 s, until the lock is ours."""
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline = time.monotonic() + wait_seconds
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                kind = "write" if exclusive else "read"
                raise WarehouseLockTimeout(
                    f"waited {wait_seconds:.0f} s to {kind} {database}: another stock_pipeline "
                    f"process kept it busy ({lock_path(database)})"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
