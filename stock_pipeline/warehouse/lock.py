"""One holder at a time across this machine's processes: an advisory file lock.

The warehouse no longer needs it (a DuckLake lets readers and writers of many processes
work at once; see ``stock_pipeline.warehouse.lake``). What still does: the runs of one
backfill take turns on its shared fetch manifest (``defs/assets/backfill_windows.py``).
``<path>.lock`` is held exclusively, or shared by readers. The kernel drops the lock if a
process dies.

Within one thread the lock is re-entrant for the same or a weaker mode, so a read inside
a write does not deadlock; upgrading a shared lock to an exclusive one is refused.

Every wait here — for this lock, or for DuckDB's own lock held by another program — is a
``LockWait``: bounded (``STOCK_PIPELINE_LOCK_TIMEOUT``, ``--lock-timeout``), ended at once
by Ctrl-C/SIGTERM (``domain.stopping``), and it says as a warning who holds the file (the
kernel's lock table names the process; DuckDB's error names its PID) and when it gives up.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stock_pipeline import settings
from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import StockPipelineError

log = logging.getLogger(__name__)

NOTICE_EVERY_SECONDS = 10.0  # how often a long wait repeats that it is still waiting
MAX_PAUSE_SECONDS = 0.25
_DUCKDB_PID = re.compile(r"\(PID (\d+)\)")


class WarehouseLockTimeout(StockPipelineError, RuntimeError):
    """Another process held the warehouse for longer than we are willing to wait."""


def describe_pid(pid: int) -> str:
    """``pid 123 (stock-pipeline sync-intraday …)``: who a process is, as far as we can tell."""
    if pid == os.getpid():
        return f"pid {pid} (this process)"
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    words = [
        os.path.basename(w) if i == 0 else w
        for i, w in enumerate(raw.decode(errors="replace").split("\0"))
        if w
    ]
    command = " ".join(" ".join(words).split())  # arguments may hold newlines
    return f"pid {pid} ({command[:100]}{'…' if len(command) > 100 else ''})"


def flock_holders(path: Path) -> list[int]:
    """Processes holding a flock on ``path``, from the kernel's lock table (Linux)."""
    try:
        st = path.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return []
    wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in table.splitlines():
        fields = line.split()
        if "FLOCK" in fields and wanted in fields:
            pid = fields[fields.index(wanted) - 1]
            if pid.isdigit() and int(pid) not in pids:
                pids.append(int(pid))
    return pids


def duckdb_holder(message: str) -> str:
    """The holder DuckDB's "Conflicting lock is held in … (PID n)" names, described."""
    found = _DUCKDB_PID.search(message)
    return f"DuckDB says {describe_pid(int(found.group(1)))} holds it" if found else message


class LockWait:
    """One bounded, interruptible wait for the warehouse, across the lock file and DuckDB."""

    def __init__(self, database: Path, wait_seconds: float) -> None:
        self.database = database
        self.wait_seconds = wait_seconds
        self.started = time.monotonic()
        self.deadline = self.started + wait_seconds
        self._next_notice = self.started
        self._pause = 0.005
        self.notices = 0

    @property
    def waited(self) -> float:
        return time.monotonic() - self.started

    def pause(self, holder: str, error: type[WarehouseLockTimeout] = WarehouseLockTimeout) -> None:
        """Wait a little longer for ``holder``, or raise ``error`` once the bound is reached."""
        now = time.monotonic()
        if now >= self.deadline:
            raise error(
                f"gave up after waiting {self.waited:.0f} s for the warehouse {self.database}: "
                f"{holder}. Nothing was written. Run again once it is done, or wait longer "
                f"with --lock-timeout SECONDS (STOCK_PIPELINE_LOCK_TIMEOUT)"
            )
        if now >= self._next_notice:
            log.warning(
                "waiting for the warehouse %s: %s; giving up in %.0f s (--lock-timeout, "
                "STOCK_PIPELINE_LOCK_TIMEOUT)",
                self.database,
                holder,
                self.deadline - now,
            )
            self.notices += 1
            self._next_notice = now + NOTICE_EVERY_SECONDS
        stopping.sleep(min(self._pause, self.deadline - now))
        self._pause = min(self._pause * 2, MAX_PAUSE_SECONDS)


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
def warehouse_lock(
    database: Path, exclusive: bool, wait_seconds: float, waiter: LockWait | None = None
) -> Iterator[None]:
    """Hold the database's lock file, shared or exclusive, waiting up to ``wait_seconds``
    (or within ``waiter``'s bound when the caller's wait spans more than this lock)."""
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
    settings.make_private_dir(path.parent)
    fd = _open_lock_file(path, exclusive)
    if fd is None:  # a reader who may not create the lock file: DuckDB's own lock remains
        yield
        return
    try:
        _acquire(fd, exclusive, waiter or LockWait(database, wait_seconds), path)
        held[key] = exclusive
        try:
            yield
        finally:
            del held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock_file(path: Path, exclusive: bool) -> int | None:
    """The lock file's descriptor; read-only for a reader who may not write it.

    A warehouse shared read-only (owned by the pipeline's user, read by others) must stay
    readable: flock works the same on a read-only descriptor. A writer without access gets
    the PermissionError, which names the file.
    """
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        if exclusive:
            raise
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None


def _acquire(fd: int, exclusive: bool, waiter: LockWait, path: Path) -> None:
    """flock within the waiter's bound: short sleeps, growing, until the lock is ours."""
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    kind = "write to" if exclusive else "read"
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            holders = [describe_pid(p) for p in flock_holders(path) if p != os.getpid()]
            who = ", ".join(holders) or "another process"
            waiter.pause(
                f"another stock_pipeline process holds its lock ({who}, lock file {path}); "
                f"this one waits to {kind} it"
            )
