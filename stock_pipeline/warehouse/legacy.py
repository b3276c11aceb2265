"""Files written before raw storage: their price rows are put back to as traded.

Before ``corporate_actions`` existed, price rows were stored as Yahoo sent them: divided by
every split known when they were written. Opening such a file (read-write) lists, per
price table and symbol, the rows written then (``fetched_at`` up to ``legacy_until``); once
the symbol's splits are stored (its first corporate-actions refresh), ``rebase_legacy``
multiplies those rows by the splits between their day and their fetch, in one transaction,
and the symbol leaves the list. No row is deleted.
"""

from __future__ import annotations

import duckdb

from stock_pipeline.warehouse.tables import Table, table_exists

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


def note_legacy_rows(con: duckdb.DuckDBPyConnection, existing: set[str]) -> None:
    """Called on open before the new tables exist: a file with price tables but no
    ``corporate_actions`` was written by the old layout; list its symbols."""
    if "corporate_actions" in existing or not existing & set(PRICE_TABLES):
        return
    con.execute(PENDING.ddl())
    for table in sorted(existing & set(PRICE_TABLES)):
        con.execute(
            f"""INSERT INTO legacy_price_rows
                SELECT ?, symbol, max(fetched_at) FROM "{table}" GROUP BY symbol""",
            [table],
        )


def rebase_legacy(con: duckdb.DuckDBPyConnection, symbol: str) -> int:
    """Put ``symbol``'s legacy rows back to as traded with its stored splits; rows changed."""
    if not table_exists(con, PENDING.name):
        return 0
    pending = con.execute(
        "SELECT table_name, legacy_until FROM legacy_price_rows WHERE symbol = ?", [symbol]
    ).fetchall()
    changed = 0
    con.execute("BEGIN TRANSACTION")
    try:
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
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return changed
