"""Concurrent commits to the lake: what counts as a conflict, and retrying one with backoff.

DuckLake lets several writers commit at once; when two transactions touch the same data
file, or (SQLite catalog) overlap at all, the later commit fails and must be redone from
the start on a fresh snapshot. These helpers redo it, with jittered exponential backoff,
until a deadline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import duckdb

from stock_pipeline.warehouse.lock import WarehouseLockTimeout

T = TypeVar("T")
log = logging.getLogger(__name__)

# Messages of failures that a retry on a fresh snapshot can cure.
_TRANSIENT = (
    "transaction conflict",  # DuckLake: another commit touched the same file or table
    "database is locked",  # SQLite catalog: another process is committing
    "database is busy",
    "could not serialize",  # PostgreSQL catalog
    "duplicate key value violates unique constraint",  # two commits took one snapshot id
)


class CommitConflictError(RuntimeError):
    """A commit kept conflicting with other writers for longer than we wait."""


# What a bounded wait for other writers ends in: their commits kept conflicting with ours,
# or one of them held the writer lock (``writers``) for longer than we wait.
BUSY_ERRORS: tuple[type[Exception], ...] = (CommitConflictError, WarehouseLockTimeout)


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a commit conflict or a busy catalog (worth retrying)."""
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc).lower()
    return any(marker in text for marker in _TRANSIENT)


def retry_conflicts(
    attempt: Callable[[], T],
    what: str,
    wait_seconds: float = 120.0,
    first_delay: float = 0.02,
    max_delay: float = 2.0,
) -> T:
    """``attempt()``, redone after a commit conflict until ``wait_seconds`` have passed.

    ``attempt`` must be a whole transaction (it re-reads what it depends on), since the
    failed one was rolled back.
    """
    deadline = time.monotonic() + wait_seconds
    delay = first_delay
    conflicts = 0
    while True:
        try:
            return attempt()
        except duckdb.Error as exc:
            if not is_conflict(exc):
                raise
            conflicts += 1
            if time.monotonic() + delay > deadline:
                raise CommitConflictError(
                    f"{what}: still conflicting with other writers after {conflicts} "
                    f"attempt(s) in {wait_seconds:.0f} s (last: {exc}). Other processes keep "
                    f"committing to the same table; try again when they are done."
                ) from exc
            log.debug("%s: commit conflict %d, retrying in %.2f s: %s", what, conflicts, delay, exc)
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, max_delay)


# One row per table; every write to a table updates its row in the same transaction.
# DuckLake enforces no keys and lets two inserts into one table commit side by side, so
# two writers replacing the same empty slice would both land (duplicates). Updating the
# same row makes their transactions delete from the same file: the later commit conflicts
# and is redone on a snapshot that holds the first one's rows.
WRITES_TABLE = "warehouse_writes"
WRITES_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{WRITES_TABLE}" '
    "(table_name VARCHAR NOT NULL, writes BIGINT NOT NULL, last_write TIMESTAMPTZ)"
)


def claim_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> None:
    """Inside a transaction: make it conflict with any concurrent write to ``tables``."""
    names = sorted(set(tables))
    if not names:
        return
    marks = ", ".join("?" for _ in names)
    row = con.execute(
        f'UPDATE "{WRITES_TABLE}" SET writes = writes + 1, last_write = now() '
        f"WHERE table_name IN ({marks})",
        names,
    ).fetchone()
    if row is None or int(row[0]) < len(names):
        raise RuntimeError(
            f"{WRITES_TABLE} lacks a row for one of {names}: the tables were created outside "
            f"stock_pipeline.warehouse.tables.connect(); connect once read-write to add it"
        )


def in_transaction(con: duckdb.DuckDBPyConnection, body: Callable[[], T]) -> T:
    """``body()`` between BEGIN and COMMIT; rolled back if anything fails (COMMIT included)."""
    con.execute("BEGIN TRANSACTION")
    try:
        result = body()
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return result


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed COMMIT has already ended it)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise
