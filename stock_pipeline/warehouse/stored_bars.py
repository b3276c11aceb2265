"""Reading a symbol's stored bars back for a chart, and saying why there are none.

Intraday intervals (1m … 90m) come from ``intraday_prices`` over N NYSE sessions; 1d and
1wk from ``daily_prices`` over N calendar days; the window ends on the latest session (or
today) unless told otherwise. When nothing matches, the error names what is stored for
the symbol, so the next command is obvious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from stock_pipeline.domain.chart_window import DEFAULT_DAYS, DEFAULT_SESSIONS
from stock_pipeline.domain.errors import InvalidDateRangeError, StockPipelineError
from stock_pipeline.domain.intervals import (
    HISTORY_INTERVALS,
    normalize_history_interval,
    normalize_intraday_interval,
)
from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    is_session,
    latest_session,
    previous_session,
    sessions_back,
)
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect

BAR_COLUMNS = "open, high, low, close, volume"


class NothingStoredError(StockPipelineError):
    """No stored bars for the symbol, interval and days asked for."""


@dataclass(frozen=True)
class StoredBars:
    symbol: str
    interval: str
    time_col: str  # "ts" (UTC bar start) or "date"
    first: date  # the window asked for, in New York dates
    last: date
    frame: pd.DataFrame  # time column plus open high low close volume, oldest first


def normalize_chart_interval(value: str) -> str:
    """1d/1wk as history intervals, anything else as an intraday one (clear error if bad)."""
    if value.strip().lower() in HISTORY_INTERVALS:
        return normalize_history_interval(value)
    return normalize_intraday_interval(value)


def load_stored_bars(
    database: Lake | Path,
    symbol: str,
    interval: str,
    days: int | None,
    now: datetime,
    end: date | None = None,
) -> StoredBars:
    """The bars of ``symbol`` at ``interval`` in the ``days`` sessions (intraday) or calendar
    days (1d, 1wk) ending with ``end`` (default: the latest session, or today); raises
    NothingStoredError saying what is stored instead."""
    interval = normalize_chart_interval(interval)
    if end is not None and end > now.astimezone(NEW_YORK).date():
        raise InvalidDateRangeError(f"--end {end} is in the future")
    if not database.exists():
        raise NothingStoredError(
            f"no warehouse at {database}: nothing has been synced yet "
            f"(try `stock-pipeline demo` or `stock-pipeline sync-intraday`)"
        )
    intraday = interval not in HISTORY_INTERVALS
    if intraday:
        last_session = latest_session(now) if end is None else _session_at_or_before(end)
        sessions = sessions_back(last_session, days or DEFAULT_SESSIONS)
        first, last = sessions[0], sessions[-1]
        sql = (
            f"SELECT ts, {BAR_COLUMNS} FROM intraday_prices WHERE symbol = ? AND interval = ? "
            "AND session_date BETWEEN ? AND ? ORDER BY ts"
        )
        span = f"the last {len(sessions)} session(s)"
    else:
        last = end or now.astimezone(NEW_YORK).date()
        first = last - timedelta(days=(days or DEFAULT_DAYS) - 1)
        sql = (
            f"SELECT date, {BAR_COLUMNS} FROM daily_prices WHERE symbol = ? AND interval = ? "
            "AND date BETWEEN ? AND ? ORDER BY date"
        )
        span = f"the last {days or DEFAULT_DAYS} day(s)"
    with connect(database, read_only=True) as con:
        frame = con.execute(sql, [symbol, interval, first, last]).df()
        if frame.empty:
            raise NothingStoredError(
                _why_empty(con, symbol, interval, f"{span} ({first} … {last})")
            )
    return StoredBars(symbol, interval, "ts" if intraday else "date", first, last, frame)


def _session_at_or_before(day: date) -> date:
    return day if is_session(day) else previous_session(day)


def _why_empty(con: duckdb.DuckDBPyConnection, symbol: str, interval: str, span: str) -> str:
    stored = con.execute(
        """SELECT interval, min(session_date), max(session_date), count(*) FROM intraday_prices
           WHERE symbol = ? GROUP BY interval
           UNION ALL
           SELECT interval, min(date), max(date), count(*) FROM daily_prices
           WHERE symbol = ? GROUP BY interval
           ORDER BY 1""",
        [symbol, symbol],
    ).fetchall()
    if not stored:
        return (
            f"nothing is stored for {symbol}: sync it first, e.g. "
            f"`stock-pipeline sync-intraday --symbols {symbol}`"
        )
    ranges = ", ".join(f"{i} {a} … {b} ({n:,} bars)" for i, a, b, n in stored)
    if interval not in {row[0] for row in stored}:
        command = "sync-historical" if interval in HISTORY_INTERVALS else "sync-intraday"
        return (
            f"no {interval} bars are stored for {symbol}; stored: {ranges}. Fetch them with "
            f"`stock-pipeline {command} --symbols {symbol} --interval {interval}`"
        )
    return (
        f"no {interval} bars of {symbol} in {span}; stored: {ranges}. "
        f"Reach further back with --days"
    )


def closes_before_years(
    con: duckdb.DuckDBPyConnection, partitions: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], tuple[date, float]]:
    """Per (symbol, year): the last stored daily (1d) session before that year and its
    close, however far back (a partition's first move is measured from it)."""
    if not partitions:
        return {}
    wanted = pd.DataFrame(
        {
            "symbol": [s for s, _ in partitions],
            "year": [int(y) for _, y in partitions],
            "first_day": [date(int(y), 1, 1) for _, y in partitions],
        }
    )
    con.register("wanted_years", wanted)
    try:
        found = con.execute(
            """
            SELECT w.symbol, w.year, p.date, p.close
            FROM wanted_years w
            ASOF JOIN (SELECT symbol, date, close FROM daily_prices
                       WHERE interval = '1d' AND close > 0) p
              ON w.symbol = p.symbol AND w.first_day > p.date
            """
        ).fetchall()
    finally:
        con.unregister("wanted_years")
    return {(str(s), int(y)): (d, float(c)) for s, y, d, c in found}
