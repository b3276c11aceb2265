"""The warehouse's tables (in a DuckLake) and transactional partition writes. No Dagster here.

One table per asset, named as the asset. A write replaces whole slices (for prices: one
symbol, interval and day or year) inside one transaction, so a failed write leaves the old
rows intact, and inserts by column name, so column order never matters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from stock_pipeline import settings
from stock_pipeline.warehouse.commits import (
    WRITES_DDL,
    WRITES_TABLE,
    retry_conflicts,
    rollback,
    write_transaction,
)
from stock_pipeline.warehouse.lake import Lake, shared_connection


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    key: tuple[str, ...]  # one row per key (kept by replace_slices: DuckLake has no keys)
    slice_by: tuple[str, ...]  # a write replaces every row matching these columns

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def column_type(self, name: str) -> str:
        """A column's DuckDB type, without constraints (``TIMESTAMPTZ``)."""
        return dict(self.columns)[name].removesuffix(" NOT NULL")

    def ddl(self) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in self.columns)
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({cols})'


INTRADAY_PRICES = Table(
    "intraday_prices",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("interval", "VARCHAR NOT NULL"),
        ("session_date", "DATE NOT NULL"),
        ("ts", "TIMESTAMPTZ NOT NULL"),
        ("open", "DOUBLE"),
        ("high", "DOUBLE"),
        ("low", "DOUBLE"),
        ("close", "DOUBLE"),
        ("volume", "BIGINT"),
        ("fetched_at", "TIMESTAMPTZ"),
    ),
    key=("symbol", "interval", "ts"),
    slice_by=("symbol", "interval", "session_date"),
)
DAILY_PRICES = Table(
    "daily_prices",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("interval", "VARCHAR NOT NULL"),
        ("date", "DATE NOT NULL"),
        ("year", "INTEGER NOT NULL"),
        ("open", "DOUBLE"),
        ("high", "DOUBLE"),
        ("low", "DOUBLE"),
        ("close", "DOUBLE"),
        ("adj_close", "DOUBLE"),
        ("volume", "BIGINT"),
        ("dividends", "DOUBLE"),
        ("stock_splits", "DOUBLE"),
        ("fetched_at", "TIMESTAMPTZ"),
    ),
    key=("symbol", "interval", "date"),
    slice_by=("symbol", "interval", "year"),
)
CURRENT_PRICES = Table(
    "current_prices",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("price", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("market_state", "VARCHAR"),
        ("market_time", "TIMESTAMPTZ"),
        ("previous_close", "DOUBLE"),
        ("day_volume", "BIGINT"),
        ("fetched_at", "TIMESTAMPTZ"),
    ),
    key=("symbol",),
    slice_by=("symbol",),
)
STOCKS = Table(
    "stocks",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("long_name", "VARCHAR"),
        ("short_name", "VARCHAR"),
        ("exchange", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("sector", "VARCHAR"),
        ("industry", "VARCHAR"),
        ("quote_type", "VARCHAR"),
        ("fetched_at", "TIMESTAMPTZ"),
    ),
    key=("symbol",),
    slice_by=("symbol",),
)
TABLES: dict[str, Table] = {
    t.name: t for t in (INTRADAY_PRICES, DAILY_PRICES, CURRENT_PRICES, STOCKS)
}

WAIT_SECONDS = 120.0


@contextmanager
def connect(
    where: Lake | str | Path,
    read_only: bool = False,
    wait_seconds: float = WAIT_SECONDS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection in UTC to the warehouse lake with every table created.

    ``where`` is a ``Lake`` or a setting (an embedded lake's directory, ``postgres:...``).
    Nothing queues: a reader sees the last committed snapshot and never blocks a writer;
    concurrent writers are reconciled at commit (``replace_slices``). ``read_only``
    attaches the lake read-only once its tables exist; ``wait_seconds`` bounds the retries
    of a catalog busy with other commits. Connections share one attached instance per
    process (``shared_connection``), so opening one is cheap.
    """
    lake = Lake.at(where, settings.warehouse_data_path())
    con: duckdb.DuckDBPyConnection | None = None
    if read_only and lake.exists():
        try:
            con = shared_connection(
                lake, read_only=True, prepare=_require_tables, wait_seconds=wait_seconds
            )
        except _TablesMissing:
            con = None
    if con is None:
        con = shared_connection(
            lake, prepare=lambda c: create_tables(c, wait_seconds), wait_seconds=wait_seconds
        )
    try:
        yield con
    finally:
        con.close()


class _TablesMissing(Exception):
    """A read-only attach found tables to create: attach read-write instead."""


def _require_tables(con: duckdb.DuckDBPyConnection) -> None:
    if _missing_tables(con):
        raise _TablesMissing


def _missing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    return [name for name in (*TABLES, WRITES_TABLE) if name not in present]


def create_tables(con: duckdb.DuckDBPyConnection, wait_seconds: float = WAIT_SECONDS) -> None:
    """Create missing tables, each with its row in the writes table, in one commit."""

    def attempt() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            missing = _missing_tables(con)
            if missing:
                con.execute(WRITES_DDL)
                for name in missing:
                    if name in TABLES:
                        con.execute(TABLES[name].ddl())
                        con.execute(f'INSERT INTO "{WRITES_TABLE}" VALUES (?, 0, NULL)', [name])
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise

    retry_conflicts(attempt, "create the warehouse tables", wait_seconds)


def replace_slices(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pd.DataFrame,
    constants: Mapping[str, object] | None = None,
    wait_seconds: float = WAIT_SECONDS,
) -> int:
    """Replace every slice present in ``frame`` with the frame's rows, atomically.

    The lake has no primary key: uniqueness comes from the DELETE and INSERT sharing one
    transaction that claims the table (``write_transaction``), so a concurrent writer of
    the same table conflicts at commit and redoes its replace on the newer snapshot.

    Only the slices the frame holds are touched; rows are matched to columns by name.
    ``constants`` gives columns the frame lacks one value for every row (``fetched_at``),
    so a caller need not copy a large frame to add them. Returns the number of rows written.
    """
    constants = {c: v for c, v in (constants or {}).items() if c not in frame.columns}
    missing = [c for c in table.column_names if c not in frame.columns and c not in constants]
    if missing:
        raise ValueError(f"{table.name}: frame lacks column(s) {missing}")
    extra = [c for c in frame.columns if c not in table.column_names]
    if extra:
        raise ValueError(f"{table.name}: frame has unknown column(s) {extra}")
    if frame.empty:
        return 0
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    values = ", ".join(
        f'CAST(? AS {table.column_type(c)}) AS "{c}"' if c in constants else f'"{c}"'
        for c in table.column_names
    )
    params = [constants[c] for c in table.column_names if c in constants]
    slice_cols = ", ".join(f'"{c}"' for c in table.slice_by)

    def replace() -> None:
        con.execute(
            f'DELETE FROM "{table.name}" WHERE ({slice_cols}) IN '
            f"(SELECT DISTINCT {slice_cols} FROM incoming_frame)"
        )
        con.execute(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {values} FROM incoming_frame', params
        )

    con.register("incoming_frame", frame)
    try:
        _refuse_duplicate_keys(con, table, frame)
        write_transaction(con, [table.name], replace, f"replace {table.name} slices", wait_seconds)
    finally:
        con.unregister("incoming_frame")
    return len(frame)


class DuplicateKeyError(ValueError):
    """A frame holds two rows for one key: storing it would break the one-row-per-key rule."""


def _refuse_duplicate_keys(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame
) -> None:
    """The primary key's job, done before writing (the lake enforces no keys)."""
    key = [c for c in table.key if c in frame.columns]
    cols = ", ".join(f'"{c}"' for c in key)
    dup = con.execute(
        f"SELECT {cols}, count(*) FROM incoming_frame GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if dup is not None:
        shown = ", ".join(f"{c}={v}" for c, v in zip(key, dup[:-1], strict=True))
        raise DuplicateKeyError(
            f"{table.name}: the frame holds {dup[-1]} rows for one key ({shown}); one row per "
            f"{', '.join(table.key)} is allowed. Nothing was written; drop the duplicates first."
        )


def read_slices(
    con: duckdb.DuckDBPyConnection, table: Table, slices: Sequence[dict[str, object]]
) -> pd.DataFrame:
    """Rows of the given slices (e.g. [{"symbol": "AAPL", "session_date": d}]), key order."""
    order = ", ".join(f'"{c}"' for c in table.key)
    if not slices:
        return con.execute(f'SELECT * FROM "{table.name}" WHERE false').df()
    wanted = pd.DataFrame(list(slices))
    cols = list(wanted.columns)
    on = " AND ".join(f't."{c}" = w."{c}"' for c in cols)
    con.register("wanted_slices", wanted)
    try:
        return con.execute(
            f'SELECT t.* FROM "{table.name}" t SEMI JOIN wanted_slices w ON {on} ORDER BY {order}'
        ).df()
    finally:
        con.unregister("wanted_slices")
