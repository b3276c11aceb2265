"""The warehouse's tables (in a DuckLake) and transactional partition writes. No Dagster here.

One table per asset, named as the asset. A write replaces whole slices (for prices: one
symbol, interval and day or year) inside one transaction, so a failed write leaves the old
rows intact, and inserts by column name, so column order never matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from stock_pipeline import settings
from stock_pipeline.domain.errors import StockPipelineError, damaged_warehouse
from stock_pipeline.warehouse.commits import (
    WRITES_DDL,
    WRITES_TABLE,
    in_transaction,
    retry_conflicts,
)
from stock_pipeline.warehouse.lake import Lake, shared_connection
from stock_pipeline.warehouse.writers import catalog_of, write_transaction, writer_lock


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
        ("timezone", "VARCHAR"),  # the exchange's IANA zone, e.g. America/New_York
        ("fetched_at", "TIMESTAMPTZ"),
    ),
    key=("symbol",),
    slice_by=("symbol",),
)
# One row per event; a refresh merges by (symbol, ex_date, kind) in one transaction and
# keeps the first first_seen (no reliance on the primary key: see warehouse.actions).
CORPORATE_ACTIONS = Table(
    "corporate_actions",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("ex_date", "DATE NOT NULL"),
        ("kind", "VARCHAR NOT NULL"),  # split | dividend
        ("value", "DOUBLE"),  # split: new shares per old share; dividend: cash paid per share
        ("first_seen", "TIMESTAMPTZ"),  # when an answer first listed the event
    ),
    key=("symbol", "ex_date", "kind"),
    slice_by=("symbol", "ex_date", "kind"),
)
# When each symbol's complete list of events last arrived: splits are known up to then.
ACTIONS_CHECKED = Table(
    "corporate_actions_checked",
    (("symbol", "VARCHAR NOT NULL"), ("checked_at", "TIMESTAMPTZ")),
    key=("symbol",),
    slice_by=("symbol",),
)
# Final intraday sessions that came back with fewer bars than the calendar allows: how
# many final fetches were short, and when the last one confirmed it (warehouse.short_sessions).
SHORT_SESSIONS = Table(
    "short_sessions",
    (
        ("symbol", "VARCHAR NOT NULL"),
        ("interval", "VARCHAR NOT NULL"),
        ("session_date", "DATE NOT NULL"),
        ("bars", "INTEGER"),  # stored by the last fetch
        ("expected", "INTEGER"),  # the calendar's full session
        ("fetches", "INTEGER"),  # final fetches that came back short
        ("first_short_at", "TIMESTAMPTZ"),  # when the first short answer arrived
        ("last_fetched_at", "TIMESTAMPTZ"),  # when the last one arrived
        ("confirmed_at", "TIMESTAMPTZ"),  # NULL: to be fetched again
    ),
    key=("symbol", "interval", "session_date"),
    slice_by=("symbol", "interval", "session_date"),
)
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        INTRADAY_PRICES,
        DAILY_PRICES,
        CURRENT_PRICES,
        STOCKS,
        CORPORATE_ACTIONS,
        ACTIONS_CHECKED,
        SHORT_SESSIONS,
    )
}

# ---- adjusted views: raw rows and corporate_actions, adjusted when read -------------------
# Each event becomes a date range per symbol: [the previous event's ex-date, its own ex-date)
# with the product of its ratio and every later event's. A row whose day falls in a range
# takes that factor, i.e. every event after the day; a day on or after the last event
# matches no range (factor 1). The views join these ranges by a hash join on symbol with the
# range as a residual condition: the build side is one row per event and the price rows
# stream through it. (An ASOF join sorted every price row first: 0.3x a plain scan, B9.)
_SPLIT_RANGES = """split_ranges AS (
    SELECT symbol,
           coalesce(lag(ex_date) OVER (PARTITION BY symbol ORDER BY ex_date),
                    DATE '-infinity') AS from_date,
           ex_date AS to_date,
           product(value) OVER (
               PARTITION BY symbol ORDER BY ex_date DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS factor
    FROM corporate_actions WHERE kind = 'split' AND value > 0)"""
# Dividends are many per symbol (quarterly for decades), so their ranges are also keyed by
# year: one row per year a range touches, and a price row checks only the few ranges of its
# own year instead of every dividend of its symbol. Years before 1900 share bucket 1900 (a
# bound on the build side's size, not on the dates handled).
_YEARS = """range(greatest(coalesce(year(prev_date), 1900), 1900),
                 greatest(year(ex_date - 1), 1900) + 1)"""
_BUCKET = "greatest(year(p.date), 1900)"
# Per dividend: 1 - cash paid / the last close before its ex-date (both as traded then),
# and the product over it and every later dividend: Yahoo's adjusted-close factor. The
# last close is looked up by the same bucketed range join (the last bar since the previous
# ex-date, else the one found for an earlier dividend); an ASOF join sorted all of
# daily_prices for it. A dividend with no close before it has no ratio (factor 1).
_DIVIDEND_RANGES = f"""dividends AS (
    SELECT symbol, ex_date, value,
           lag(ex_date) OVER (PARTITION BY symbol ORDER BY ex_date) AS prev_date
    FROM corporate_actions WHERE kind = 'dividend'),
dividend_buckets AS (
    SELECT symbol, ex_date, coalesce(prev_date, DATE '-infinity') AS from_date,
           unnest({_YEARS}) AS bucket
    FROM dividends),
range_closes AS (
    SELECT d.symbol, d.ex_date, arg_max(p.close, p.date) AS close
    FROM daily_prices p JOIN dividend_buckets d
      ON p.symbol = d.symbol AND {_BUCKET} = d.bucket
     AND p.date >= d.from_date AND p.date < d.ex_date
    WHERE p.interval = '1d' AND p.close > 0
    GROUP BY d.symbol, d.ex_date),
dividend_ratios AS (
    SELECT d.symbol, d.ex_date, d.prev_date,
           1 - d.value / last_value(c.close IGNORE NULLS) OVER (
               PARTITION BY d.symbol ORDER BY d.ex_date
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS keep
    FROM dividends d LEFT JOIN range_closes c USING (symbol, ex_date)),
dividend_steps AS (
    SELECT symbol, ex_date, prev_date, product(keep) OVER (
        PARTITION BY symbol ORDER BY ex_date DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS factor
    FROM dividend_ratios),
dividend_ranges AS (
    SELECT symbol, coalesce(prev_date, DATE '-infinity') AS from_date, ex_date AS to_date,
           factor, unnest({_YEARS}) AS bucket
    FROM dividend_steps)"""


# The day whose share basis a daily_prices row is on: its date, or for a weekly (1wk) row the
# last day of its week (domain.weeks: a week with a split inside is on the basis after it).
BASIS_DAY = "CASE WHEN interval = '1wk' THEN date + 6 ELSE date END"


@dataclass(frozen=True)
class View:
    name: str
    select: str

    def ddl(self) -> str:
        return f'CREATE OR REPLACE VIEW "{self.name}" AS {self.select}'


# ``currency`` comes from ``stocks`` (one row per symbol): a hash join on its few rows.
DAILY_PRICES_ADJUSTED = View(
    "daily_prices_adjusted",
    f"""WITH {_SPLIT_RANGES}, {_DIVIDEND_RANGES}
    SELECT p.symbol, p.interval, p.date, p.year,
           p.open / coalesce(s.factor, 1) AS open,
           p.high / coalesce(s.factor, 1) AS high,
           p.low / coalesce(s.factor, 1) AS low,
           p.close / coalesce(s.factor, 1) AS close,
           p.close / coalesce(s.factor, 1) * coalesce(d.factor, 1) AS adj_close,
           CAST(round(p.volume * coalesce(s.factor, 1)) AS BIGINT) AS volume,
           st.currency, p.fetched_at
    FROM (SELECT *, {BASIS_DAY} AS basis_day FROM daily_prices) p
    LEFT JOIN split_ranges s
      ON p.symbol = s.symbol AND p.basis_day >= s.from_date AND p.basis_day < s.to_date
    LEFT JOIN dividend_ranges d
      ON p.symbol = d.symbol AND greatest(year(p.basis_day), 1900) = d.bucket
     AND p.basis_day >= d.from_date AND p.basis_day < d.to_date
    LEFT JOIN stocks st ON st.symbol = p.symbol""",
)
INTRADAY_PRICES_ADJUSTED = View(
    "intraday_prices_adjusted",
    f"""WITH {_SPLIT_RANGES}
    SELECT p.symbol, p.interval, p.session_date, p.ts,
           p.open / coalesce(s.factor, 1) AS open,
           p.high / coalesce(s.factor, 1) AS high,
           p.low / coalesce(s.factor, 1) AS low,
           p.close / coalesce(s.factor, 1) AS close,
           CAST(round(p.volume * coalesce(s.factor, 1)) AS BIGINT) AS volume,
           st.currency, p.fetched_at
    FROM intraday_prices p
    LEFT JOIN split_ranges s
      ON p.symbol = s.symbol AND p.session_date >= s.from_date AND p.session_date < s.to_date
    LEFT JOIN stocks st ON st.symbol = p.symbol""",
)
VIEWS: tuple[View, ...] = (DAILY_PRICES_ADJUSTED, INTRADAY_PRICES_ADJUSTED)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether ``name`` is a table of the warehouse (one written before it existed and
    attached read-only does not have it)."""
    # fetchall, not fetchone: an unfinished result would block the next transaction.
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = current_database() AND table_name = ?",
        [name],
    ).fetchall()
    return bool(found[0][0])


class WarehouseUnreadableError(StockPipelineError):
    """The warehouse cannot be attached or read (a damaged catalog): retrying cannot help."""


def unreadable(where: object, exc: Exception) -> WarehouseUnreadableError:
    """The error for a warehouse DuckDB cannot attach or read, and what to do."""
    lines = str(exc).strip().splitlines()
    return WarehouseUnreadableError(damaged_warehouse(where, lines[0] if lines else repr(exc)))


@contextmanager
def connect(
    where: Lake | str | Path,
    read_only: bool = False,
    wait_seconds: float | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection in UTC to the warehouse lake with every table and view created.

    ``where`` is a ``Lake`` or a setting (an embedded lake's directory, ``postgres:...``).
    Nothing queues: a reader sees the last committed snapshot and never blocks a writer;
    concurrent writers are reconciled at commit (``replace_slices``). ``read_only``
    attaches the lake read-only once its layout is current; a read-write attach (it may
    create the catalog and tables) holds the writer lock (``writers``). ``wait_seconds``
    (default ``STOCK_PIPELINE_LOCK_TIMEOUT``) bounds waiting for other writers. Connections
    share one attached instance per process (``shared_connection``), so opening one is cheap.
    """
    lake = Lake.at(where, settings.warehouse_data_path())
    wait = settings.lock_timeout() if wait_seconds is None else wait_seconds
    con: duckdb.DuckDBPyConnection | None = None
    if read_only and lake.exists():
        try:
            con = shared_connection(
                lake, read_only=True, prepare=_require_layout, wait_seconds=wait
            )
        except _LayoutOutdated:
            con = None
    if con is None:
        con = shared_connection(
            lake,
            prepare=lambda c: create_tables(c, wait),
            wait_seconds=wait,
            attach_lock=lambda: writer_lock(lake, wait),
        )
    try:
        yield con
    finally:
        con.close()


class _LayoutOutdated(Exception):
    """A read-only attach found tables, columns or views to create: attach read-write."""


def _require_layout(con: duckdb.DuckDBPyConnection) -> None:
    if _layout_changes(con):
        raise _LayoutOutdated


def _expected_views() -> dict[str, str]:
    """Each view's SQL as this DuckDB stores it (rendered in a scratch in-memory database,
    so a changed view definition is told from an unchanged one exactly)."""
    scratch = duckdb.connect()
    try:
        for table in TABLES.values():
            scratch.execute(table.ddl())
        for view in VIEWS:
            scratch.execute(view.ddl())
        return dict(
            scratch.execute(
                "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        )
    finally:
        scratch.close()


def _layout_changes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """DDL statements that bring the attached lake to this version's layout (none: current).

    The layouts above are the one source of truth: a table missing is created (with its
    row in the writes table), a column declared since is added (NULL in existing rows), a
    view missing or defined differently is replaced.
    """
    columns: dict[str, set[str]] = {}
    for name, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database()"
    ).fetchall():
        columns.setdefault(name, set()).add(column)
    changes: list[str] = []
    claimable: set[str] = set()
    if WRITES_TABLE not in columns:
        changes.append(WRITES_DDL)
    else:
        claimable = {
            name for (name,) in con.execute(f'SELECT table_name FROM "{WRITES_TABLE}"').fetchall()
        }
    for table in TABLES.values():
        if table.name not in claimable:  # every table has its row (commits.claim_tables)
            changes.append(f"INSERT INTO \"{WRITES_TABLE}\" VALUES ('{table.name}', 0, NULL)")
        if table.name not in columns:
            changes.append(table.ddl())
            continue
        for column, _ in table.columns:
            if column not in columns[table.name]:
                changes.append(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{column}" {table.column_type(column)}'
                )
    stored = dict(
        con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = current_database()"
        ).fetchall()
    )
    expected = _expected_views()
    for view in VIEWS:
        if stored.get(view.name) != expected.get(view.name):
            changes.append(view.ddl())
    return changes


def create_tables(con: duckdb.DuckDBPyConnection, wait_seconds: float | None = None) -> None:
    """Bring the lake to this version's layout in one commit (nothing to do: no commit).

    A table created here gets one placeholder row in the same commit, deleted by a second:
    DuckLake writes a table's statistics rows when the table first gets data, and a reader
    of another process loading statistics at that moment can abort (see ``writers``); after
    this, writes only update those rows.
    """
    wait = settings.lock_timeout() if wait_seconds is None else wait_seconds

    def update() -> list[Table]:
        created = [t for t in TABLES.values() if not table_exists(con, t.name)]
        for statement in _layout_changes(con):
            con.execute(statement)
        for table in created:
            con.execute(_placeholder(table, "INSERT"))
        return created

    def clear(created: list[Table]) -> None:
        for table in created:
            con.execute(_placeholder(table, "DELETE"))

    with writer_lock(catalog_of(con), wait):
        created = retry_conflicts(
            lambda: in_transaction(con, update), "bring the warehouse tables up to date", wait
        )
        if created:
            retry_conflicts(
                lambda: in_transaction(con, lambda: clear(created)),
                "prime the new warehouse tables",
                wait,
            )


_PLACEHOLDER = {
    "VARCHAR": "'~placeholder'",
    "DATE": "DATE '1970-01-01'",
    "TIMESTAMPTZ": "TIMESTAMPTZ '1970-01-01 00:00:00+00'",
}


def _placeholder(table: Table, verb: str) -> str:
    """The INSERT of a table's placeholder row, or the DELETE of it (by its key)."""
    values = {c: _PLACEHOLDER.get(table.column_type(c), "0") for c in table.column_names}
    if verb == "INSERT":
        cols = ", ".join(f'"{c}"' for c in values)
        return f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join(values.values())})'
    where = " AND ".join(f'"{c}" = {values[c]}' for c in table.key)
    return f'DELETE FROM "{table.name}" WHERE {where}'


def replace_slices(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pd.DataFrame,
    constants: Mapping[str, object] | None = None,
    within: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    within_tables: Sequence[str] = (),
    wait_seconds: float | None = None,
) -> int:
    """Replace every slice present in ``frame`` with the frame's rows, atomically.

    The lake has no primary key: uniqueness comes from the DELETE and INSERT sharing one
    transaction that claims the table (``write_transaction``), so a concurrent writer of
    the same table conflicts at commit and redoes its replace on the newer snapshot.

    Only the slices the frame holds are touched; rows are matched to columns by name.
    ``constants`` gives columns the frame lacks one value for every row (``fetched_at``),
    so a caller need not copy a large frame to add them. ``within`` runs inside the same
    transaction after the insert, the frame registered as ``incoming_frame`` (bookkeeping
    that must not be lost or doubled apart from the rows), writing ``within_tables``.
    Returns the rows written.
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
        if within is not None:
            within(con)

    con.register("incoming_frame", frame)
    try:
        _refuse_duplicate_keys(con, table, frame)
        write_transaction(
            con,
            [table.name, *within_tables],
            replace,
            f"replace {table.name} slices",
            wait_seconds,
        )
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
