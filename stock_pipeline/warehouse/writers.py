"""One writer at a time per lake, on every machine; readers take no lock.

DuckLake (the ``ducklake`` extension for DuckDB 1.4.4) can abort a process when several
processes create or first fill a lake's tables at the same moment: a transaction's catalog
read fails with ``INTERNAL Error: Calling GetValueInternal on a value that is NULL`` (a
table's stats row seen without its column-stats rows), which invalidates the DuckDB
instance, and closing it then aborts the process; two processes attaching a new PostgreSQL
catalog at once also fail (``relation "ducklake_metadata" already exists``). Retrying a
commit cures neither, so writers take turns on a lock, and every write is one transaction
(``write_transaction``) that also claims its tables (``commits.claim_tables``: a writer that
bypassed the lock still conflicts instead of duplicating a slice):

* PostgreSQL catalog: ``pg_try_advisory_lock`` on a session of its own (across machines;
  PostgreSQL releases it when the session ends, so a killed writer frees it).
* SQLite catalog: the file lock ``<catalog>.lock`` beside it (one machine; the kernel
  releases it when the process dies).

A write holds the lock for its transaction only (milliseconds to a second), not while the
run fetches from Yahoo. The wait is bounded by ``STOCK_PIPELINE_LOCK_TIMEOUT``
(``--lock-timeout``), says who holds the lock, and ends at once on Ctrl-C/SIGTERM.
Re-entrant within a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from stock_pipeline import settings
from stock_pipeline.warehouse.commits import claim_tables, in_transaction, retry_conflicts
from stock_pipeline.warehouse.lake import ALIAS, POSTGRES_PREFIX, Lake
from stock_pipeline.warehouse.lock import LockWait, warehouse_lock

T = TypeVar("T")
# pg advisory locks are per database: one catalog database, one key ("STOCKLAK").
ADVISORY_KEY = 0x5354_4F43_4B4C_414B
_held = threading.local()


def catalog_of(con: duckdb.DuckDBPyConnection) -> str:
    """The catalog (``sqlite:<file>`` / ``postgres:<conninfo>``) of the lake ``con`` uses."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = ? AND type = 'ducklake'",
        [ALIAS],
    ).fetchone()
    if row is None or not row[0]:
        raise RuntimeError(f"no DuckLake attached as {ALIAS}: open it with tables.connect()")
    return str(row[0])


@contextmanager
def writer_lock(lake: Lake | str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the lake's writer lock, waiting for the writer holding it at most
    ``wait_seconds`` (default ``STOCK_PIPELINE_LOCK_TIMEOUT``)."""
    catalog = lake.catalog if isinstance(lake, Lake) else lake
    held: set[str] = getattr(_held, "catalogs", None) or set()
    _held.catalogs = held
    if catalog in held:
        yield
        return
    wait = settings.lock_timeout() if wait_seconds is None else wait_seconds
    if catalog.startswith(POSTGRES_PREFIX):
        lock = _advisory_lock(catalog.removeprefix(POSTGRES_PREFIX), wait, lake)
    else:
        lock = warehouse_lock(Path(catalog.removeprefix("sqlite:")), True, wait)
    with lock:
        held.add(catalog)
        try:
            yield
        finally:
            held.discard(catalog)


@contextmanager
def _advisory_lock(conninfo: str, wait_seconds: float, lake: Lake | str) -> Iterator[None]:
    import psycopg2

    # keepalives: a writer whose machine vanished frees the lock within about a minute
    pg = psycopg2.connect(
        conninfo, keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3
    )
    try:
        pg.autocommit = True
        waiter = LockWait(lake, wait_seconds)  # type: ignore[arg-type]
        with pg.cursor() as cur:
            while True:
                cur.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
                row = cur.fetchone()
                if row is not None and row[0]:
                    break
                cur.execute(
                    "SELECT string_agg(a.pid || ' (' || coalesce(a.client_addr::text, 'local') "
                    "|| ')', ', ') FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'advisory' AND l.granted AND "
                    "(l.classid::bigint << 32 | l.objid::bigint) = %s",
                    [ADVISORY_KEY],
                )
                found = cur.fetchone()
                holder = found[0] if found and found[0] else "another writer"
                waiter.pause(f"PostgreSQL session {holder} holds the writer lock")
        yield
    finally:
        pg.close()  # ends the session: PostgreSQL releases the lock


def write_transaction(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    body: Callable[[], T],
    what: str,
    wait_seconds: float | None = None,
) -> T:
    """``body()`` in one transaction that claims ``tables``, under the lake's writer lock,
    redone after a commit conflict.

    ``body`` runs again from the start on each retry, so it must read what it depends on
    inside itself. ``wait_seconds`` bounds the wait for the lock and, again, the retries.
    """
    wait = settings.lock_timeout() if wait_seconds is None else wait_seconds

    def claimed() -> T:
        claim_tables(con, tables)
        return body()

    def attempt() -> T:
        return in_transaction(con, claimed)

    with writer_lock(catalog_of(con), wait):
        return retry_conflicts(attempt, what, wait)
