"""Storing corporate actions: merged by event, first sighting kept. DuckDB only.

A chart answer lists only the events in its range, so a write never replaces a symbol's
events wholesale: each incoming (symbol, ex_date, kind) replaces that one event, inside
one transaction, and keeps the ``first_seen`` of the row it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import duckdb
import pandas as pd

from stock_pipeline.domain.corporate_actions import ACTION_COLUMNS, SPLIT
from stock_pipeline.warehouse.tables import ACTIONS_CHECKED, CORPORATE_ACTIONS, replace_slices


def merge_actions(con: duckdb.DuckDBPyConnection, events: pd.DataFrame, seen_at: datetime) -> int:
    """Store events (``ACTION_COLUMNS``); returns how many were not stored before."""
    if events.empty:
        return 0
    incoming = events[list(ACTION_COLUMNS)].assign(
        ex_date=pd.to_datetime(events["ex_date"]).dt.date
    )
    incoming = incoming.drop_duplicates(["symbol", "ex_date", "kind"], keep="last")
    known = con.execute(
        "SELECT symbol, ex_date, kind, first_seen FROM corporate_actions "
        "WHERE symbol IN (SELECT unnest(?))",
        [sorted(set(incoming["symbol"]))],
    ).df()
    known["ex_date"] = pd.to_datetime(known["ex_date"]).dt.date
    merged = incoming.merge(known, on=["symbol", "ex_date", "kind"], how="left")
    new = int(merged["first_seen"].isna().sum())
    merged["first_seen"] = merged["first_seen"].fillna(pd.Timestamp(seen_at))
    replace_slices(con, CORPORATE_ACTIONS, merged)
    return new


def mark_checked(con: duckdb.DuckDBPyConnection, symbols: Sequence[str], at: datetime) -> None:
    """Record that every event of ``symbols`` up to ``at`` is stored."""
    if symbols:
        replace_slices(
            con, ACTIONS_CHECKED, pd.DataFrame({"symbol": list(symbols)}), {"checked_at": at}
        )


def checked_at(con: duckdb.DuckDBPyConnection, symbols: Sequence[str]) -> dict[str, datetime]:
    """When each symbol's full event list last arrived (absent: never)."""
    rows = con.execute(
        "SELECT symbol, checked_at FROM corporate_actions_checked "
        "WHERE symbol IN (SELECT unnest(?))",
        [list(symbols)],
    ).fetchall()
    return {symbol: at for symbol, at in rows if at is not None}


def stored_splits(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str]
) -> dict[str, list[tuple[date, float]]]:
    """Every stored split of each symbol, oldest first."""
    rows = con.execute(
        "SELECT symbol, ex_date, value FROM corporate_actions "
        "WHERE kind = ? AND symbol IN (SELECT unnest(?)) ORDER BY symbol, ex_date",
        [SPLIT, list(symbols)],
    ).fetchall()
    found: dict[str, list[tuple[date, float]]] = {s: [] for s in symbols}
    for symbol, ex_date, value in rows:
        found[symbol].append((ex_date, float(value)))
    return found
