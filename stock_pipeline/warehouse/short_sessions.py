"""Short intraday sessions: counted as each final answer is stored, read by the planners.

A final session (its answer arrived at or after the close plus the grace period) with
fewer bars than ``session_rules.fewest_final_bars`` allows is *short*. Every write of
intraday bars updates ``short_sessions`` in the same transaction: a short final slice adds
one to its ``fetches`` and, once that exceeds the allowed re-fetches, is confirmed
(``confirmed_at``: when the confirming answer arrived); a final slice that is no longer
short is removed (repaired). Provisional slices leave the table alone. The planners read
the table with the slices' row counts (``completeness``), one small join for thousands of
slices. A file written before the table existed gains it on the next read-write open;
read-only, it reads as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.session_rules import fewest_final_bars
from stock_pipeline.domain.slice_state import short_fetch_outcome
from stock_pipeline.domain.trading_calendar import expected_bar_count, session_is_final
from stock_pipeline.warehouse.tables import (
    INTRADAY_PRICES,
    SHORT_SESSIONS,
    replace_slices,
    table_exists,
)

CONFIRMED_NOTE = "short, confirmed"  # how a confirmed short session's metadata note starts


@dataclass(frozen=True)
class ShortRecord:
    """What ``short_sessions`` holds of one (symbol, interval, session)."""

    symbol: str
    interval: str
    day: date
    bars: int
    expected: int
    fetches: int
    first_short_at: datetime | None
    last_fetched_at: datetime | None
    confirmed_at: datetime | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def store_intraday(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    constants: Mapping[str, object] | None,
    grace: timedelta,
    refetches: int,
) -> int:
    """Replace the intraday slices ``frame`` holds and, in the same transaction, count the
    final ones that came back short (``replace_slices`` with ``record_final_slices``)."""
    stamp = None if "fetched_at" in frame.columns else (constants or {}).get("fetched_at")

    def record(inner: duckdb.DuckDBPyConnection) -> None:
        record_final_slices(inner, stamp, grace, refetches)

    return replace_slices(
        con, INTRADAY_PRICES, frame, constants, within=record, within_tables=[SHORT_SESSIONS.name]
    )


def _as_utc(value: object) -> datetime | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime()


def record_final_slices(
    con: duckdb.DuckDBPyConnection, stamp: object, grace: timedelta, refetches: int
) -> None:
    """Update ``short_sessions`` for the slices of ``incoming_frame`` (registered by
    ``replace_slices``); ``stamp``: their fetched_at when the frame has no such column."""
    fetched = "min(fetched_at)" if stamp is None else "NULL"
    slices = con.execute(
        f"""SELECT symbol, interval, CAST(session_date AS DATE), count(*), {fetched}
            FROM incoming_frame GROUP BY ALL"""
    ).fetchall()
    finals = []
    for symbol, interval, day, bars, arrived in slices:
        at = _as_utc(arrived if stamp is None else stamp)
        if at is not None and session_is_final(day, at, grace):
            finals.append((symbol, interval, day, int(bars), at))
    if not finals:
        return
    keys = pd.DataFrame(
        [(s, i, d) for s, i, d, _, _ in finals], columns=["symbol", "interval", "session_date"]
    )
    con.register("final_slices", keys)
    try:
        earlier = {
            (s, i, d): (int(n or 0), first, confirmed, last)
            for s, i, d, n, first, confirmed, last in con.execute(
                """SELECT symbol, interval, session_date, fetches, first_short_at, confirmed_at,
                          last_fetched_at
                   FROM short_sessions
                   WHERE (symbol, interval, session_date) IN (SELECT * FROM final_slices)"""
            ).fetchall()
        }
        con.execute(
            """DELETE FROM short_sessions
               WHERE (symbol, interval, session_date) IN (SELECT * FROM final_slices)"""
        )
    finally:
        con.unregister("final_slices")
    short = []
    for symbol, interval, day, bars, at in finals:
        if bars >= fewest_final_bars(day, interval):
            continue  # complete (again): repaired, nothing to remember
        before, first, confirmed, last = earlier.get((symbol, interval, day), (0, None, None, None))
        if last is not None and _as_utc(last) == at:
            fetches, confirms = before, confirmed is not None  # the same answer written again
        else:
            fetches, confirms = short_fetch_outcome(before, refetches)
        short.append(
            {
                "symbol": symbol,
                "interval": interval,
                "session_date": day,
                "bars": bars,
                "expected": expected_bar_count(day, interval),
                "fetches": fetches,
                "first_short_at": pd.Timestamp(first or at),
                "last_fetched_at": pd.Timestamp(at),
                "confirmed_at": pd.Timestamp(confirmed or at) if confirms or confirmed else pd.NaT,
            }
        )
    if not short:
        return
    rows = pd.DataFrame(short, columns=SHORT_SESSIONS.column_names)
    con.register("short_rows", rows)
    try:
        cols = ", ".join(f'"{c}"' for c in SHORT_SESSIONS.column_names)
        con.execute(f"INSERT INTO short_sessions ({cols}) SELECT {cols} FROM short_rows")
    finally:
        con.unregister("short_rows")


def confirmed_short(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str], first: date, last: date
) -> dict[tuple[str, date], set[str]]:
    """Per (symbol, session) from ``first`` to ``last``: the intervals confirmed short."""
    if not symbols or not table_exists(con, SHORT_SESSIONS.name):
        return {}
    found = con.execute(
        """SELECT symbol, session_date, interval FROM short_sessions
           WHERE confirmed_at IS NOT NULL AND symbol IN (SELECT unnest(?))
             AND session_date BETWEEN ? AND ?""",
        [list(symbols), first, last],
    ).fetchall()
    confirmed: dict[tuple[str, date], set[str]] = {}
    for symbol, day, interval in found:
        confirmed.setdefault((str(symbol), day), set()).add(str(interval))
    return confirmed


def short_records(
    con: duckdb.DuckDBPyConnection,
    symbols: Sequence[str],
    interval: str,
    first: date,
    last: date,
) -> dict[tuple[str, date], ShortRecord]:
    """Recorded short sessions of ``symbols`` at ``interval`` from ``first`` to ``last``."""
    if not symbols or not table_exists(con, SHORT_SESSIONS.name):
        return {}
    found = con.execute(
        """SELECT symbol, interval, session_date, bars, expected, fetches, first_short_at,
                  last_fetched_at, confirmed_at
           FROM short_sessions
           WHERE interval = ? AND symbol IN (SELECT unnest(?)) AND session_date BETWEEN ? AND ?""",
        [interval, list(symbols), first, last],
    ).fetchall()
    records = [
        ShortRecord(
            str(s),
            str(i),
            d,
            int(b or 0),
            int(e or 0),
            int(n or 0),
            _as_utc(f),
            _as_utc(la),
            _as_utc(c),
        )
        for s, i, d, b, e, n, f, la, c in found
    ]
    return {(r.symbol, r.day): r for r in records}


def short_session_notes(
    con: duckdb.DuckDBPyConnection | None,
    frame: pd.DataFrame,
    interval: str,
    grace: timedelta,
    refetches: int,
) -> dict[str, dict[str, str | int]]:
    """Per partition key of intraday rows about to be written: what storing them will do
    to ``short_sessions`` (the same rule as ``record_final_slices``), as materialization
    metadata. Final slices only; short, confirmed or repaired. ``con``: None before the
    warehouse file exists."""
    if frame.empty:
        return {}
    slices = frame.groupby(["symbol", "session_date"], sort=False)["fetched_at"].agg(
        ["size", "min"]
    )
    finals = []
    for (symbol, day), bars, arrived in slices.itertuples(name=None):
        day = pd.Timestamp(day).date()
        at = _as_utc(arrived)
        if at is not None and session_is_final(day, at, grace):
            finals.append((str(symbol), day, int(bars), at))
    if not finals:
        return {}
    days = [d for _, d, _, _ in finals]
    symbols = sorted({s for s, _, _, _ in finals})
    earlier = short_records(con, symbols, interval, min(days), max(days)) if con else {}
    notes: dict[str, dict[str, str | int]] = {}
    for symbol, day, bars, at in finals:
        key = intraday_key(symbol, day)
        record = earlier.get((symbol, day))
        fewest = fewest_final_bars(day, interval)
        if bars >= fewest:
            if record is not None:
                notes[key] = {
                    "short_session": f"repaired: {bars} bars after {record.fetches} short "
                    f"fetch(es) of {record.bars}"
                }
            continue
        if record is not None and record.last_fetched_at == at:
            fetches, confirmed = record.fetches, record.confirmed
        else:
            fetches, confirmed = short_fetch_outcome(record.fetches if record else 0, refetches)
            confirmed = confirmed or bool(record and record.confirmed)
        missing = f"{bars} of {expected_bar_count(day, interval)} bars (fewest allowed {fewest})"
        if confirmed:
            text = (
                f"{CONFIRMED_NOTE}: {missing} after {fetches} final fetch(es); Yahoo has no "
                f"more, not fetched again without --force"
            )
        else:
            text = (
                f"short, pending repair: {missing}; final fetch {fetches} of up to "
                f"{refetches + 1}, fetched again by the next sync or the missing-partitions "
                f"sensor"
            )
        notes[key] = {"short_session": text, "short_session_fetches": fetches}
    return notes


def confirmed_by(notes: Mapping[str, Mapping[str, str | int]]) -> list[str]:
    """The partition keys ``short_session_notes`` says the write confirms as short."""
    return [
        k for k, n in notes.items() if str(n.get("short_session", "")).startswith(CONFIRMED_NOTE)
    ]
