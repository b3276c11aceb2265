"""The DuckDB warehouse: table layouts and transactional partition writes. No Dagster here.

One table per asset, named as the asset. A write replaces whole slices (for prices: one
symbol, interval and day or year) inside one transaction, so a failed write leaves the old
rows intact, and inserts by column name, so column order never matters.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from stock_pipeline import settings
from stock_pipeline.warehouse.lock import warehouse_lock


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    key: tuple[str, ...]  # one row per key
    slice_by: tuple[str, ...]  # a write replaces every row matching these columns

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def column_type(self, name: str) -> str:
        """A column's DuckDB type, without constraints (``TIMESTAMPTZ``)."""
        return dict(self.columns)[name].removesuffix(" NOT NULL")

    def ddl(self) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in self.columns)
        key = ", ".join(f'"{c}"' for c in self.key)
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({cols}, PRIMARY KEY ({key}))'


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

LOCK_WAIT_SECONDS = 120.0


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file for longer than we are willing to wait."""


@contextmanager
def connect(
    path: str | Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection in UTC with every table created; waits (with jitter) on a file lock.

    DuckDB lets one process hold a file read-write and then refuses every other process,
    readers included, so connections are short-lived and queue on the warehouse lock
    (``warehouse_lock``: one writer or many readers among this machine's processes); a
    conflict with any other program holding the file is waited out here.
    """
    path = Path(path)
    settings.make_private_dir(path.parent)
    opens_read_only = read_only and path.exists()
    with (
        warehouse_lock(path, exclusive=not opens_read_only, wait_seconds=wait_seconds),
        _open(path, opens_read_only, wait_seconds) as con,
    ):
        yield con


@contextmanager
def _open(path: Path, read_only: bool, wait_seconds: float) -> Iterator[duckdb.DuckDBPyConnection]:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                if "lock" in str(exc).lower():
                    raise WarehouseLockedError(
                        f"DuckDB file {path} is locked by another process ({exc}). Stop the "
                        f"other writer or wait; the pipeline serialises its own writers."
                    ) from exc
                raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)
    try:
        con.execute("SET TimeZone = 'UTC'")
        mode = con.execute("SELECT current_setting('access_mode')").fetchall()
        if mode != [("read_only",)]:
            for table in TABLES.values():
                con.execute(table.ddl())
        yield con
    finally:
        con.close()


def replace_slices(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pd.DataFrame,
    constants: Mapping[str, object] | None = None,
) -> int:
    """Replace every slice present in ``frame`` with the frame's rows, atomically.

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
    con.register("incoming_frame", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                f'DELETE FROM "{table.name}" WHERE ({slice_cols}) IN '
                f"(SELECT DISTINCT {slice_cols} FROM incoming_frame)"
            )
            con.execute(
                f'INSERT INTO "{table.name}" ({cols}) SELECT {values} FROM incoming_frame', params
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("incoming_frame")
    return len(frame)


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
