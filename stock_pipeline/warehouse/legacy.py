"""Files written before raw storage: their price rows are put back to as traded.

Before ``corporate_actions`` existed, price rows were stored as Yahoo sent them: divided by
every split known when they were written. Migrating such a file into the lake
(``warehouse.migrate``) lists, per price table and symbol, the rows written then
(``fetched_at`` up to ``legacy_until``); once the symbol's splits are stored (its first
corporate-actions refresh), ``rebase_legacy`` multiplies those rows by the splits between
their day and their fetch, in one transaction, and the symbol leaves the list. No row is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from stock_pipeline.warehouse.tables import Table, table_exists
from stock_pipeline.warehouse.writers import write_transaction

PENDING = Table(
    "legacy_price_rows",
    (
        ("table_name", "VARCHAR NOT NULL"),
        ("symbol", "VARCHAR NOT NULL"),
        ("legacy_until", "TIMESTAMPTZ"),  # rows fetched up to here are on Yahoo's basis
    ),
    key=("table_name", "symbol"),
    slice_by=("table_name", "symbol"),
)
# price table → the column holding each row's New York trading day
PRICE_TABLES = {"daily_prices": "date", "intraday_prices": "session_date"}
# price table → the day (of row r) whose share basis a row is put on: a weekly row's is its
# week's end (tables.BASIS_DAY)
BASIS_DAYS = {
    "daily_prices": "CASE WHEN r.interval = '1wk' THEN r.date + 6 ELSE r.date END",
    "intraday_prices": "r.session_date",
}


def note_legacy_rows(con: duckdb.DuckDBPyConnection, relations: Mapping[str, str]) -> None:
    """Called by the migration with the old warehouse's tables (name -> relation): one
    with price tables but no ``corporate_actions`` was written by the old layout; list
    its symbols, in one commit."""
    if "corporate_actions" in relations or not relations.keys() & set(PRICE_TABLES):
        return

    def note() -> None:
        con.execute(PENDING.ddl())
        for table in sorted(relations.keys() & set(PRICE_TABLES)):
            con.execute(
                f"""INSERT INTO legacy_price_rows
                    SELECT ?, symbol, max(fetched_at) FROM {relations[table]} GROUP BY symbol""",
                [table],
            )

    write_transaction(con, sorted(relations.keys() & set(PRICE_TABLES)), note, "note legacy rows")


def rebase_legacy(con: duckdb.DuckDBPyConnection, symbol: str) -> int:
    """Put ``symbol``'s legacy rows back to as traded with its stored splits; rows changed."""
    if not table_exists(con, PENDING.name):
        return 0
    pending = con.execute(
        "SELECT table_name, legacy_until FROM legacy_price_rows WHERE symbol = ?", [symbol]
    ).fetchall()

    def rebase() -> int:
        changed = 0
        for table, until in pending:
            day = BASIS_DAYS[table]
            key = "date" if table == "daily_prices" else "ts"
            # A split counts when it took effect before the row was fetched.
            result = con.execute(
                f"""UPDATE "{table}" p SET
                        open = round(p.open * f.factor, 2),
                        high = round(p.high * f.factor, 2),
                        low = round(p.low * f.factor, 2),
                        close = round(p.close * f.factor, 2),
                        volume = CAST(round(p.volume / f.factor) AS BIGINT)
                    FROM (
                        SELECT r.interval, r.{key}, product(a.value) AS factor
                        FROM "{table}" r JOIN corporate_actions a
                          ON a.symbol = r.symbol AND a.kind = 'split' AND a.ex_date > {day}
                         AND a.ex_date <= CAST(timezone('America/New_York', r.fetched_at) AS DATE)
                        WHERE r.symbol = ? AND r.fetched_at <= ?
                        GROUP BY ALL
                    ) f
                    WHERE p.symbol = ? AND p.interval = f.interval AND p.{key} = f.{key}""",
                [symbol, until, symbol],
            ).fetchall()
            changed += int(result[0][0]) if result else 0
        con.execute("DELETE FROM legacy_price_rows WHERE symbol = ?", [symbol])
        return changed

    if not pending:
        return 0
    tables = sorted({table for table, _ in pending})
    return write_transaction(con, tables, rebase, f"rebase {symbol}'s legacy rows")
