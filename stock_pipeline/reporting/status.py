"""What the warehouse holds per symbol: the facts behind ``stock-pipeline status``.

Per registered symbol: the newest bar stored at each interval (intraday and daily), the
closed sessions inside the window the pipeline keeps filling — Yahoo's lookback for the
scheduled interval, cut at the retention period — that are missing, still provisional, or
short of the calendar's bars (pending repair: fetched again by the next sync; or confirmed
short after the bounded re-fetches), and whether the symbol is quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL, intraday_spec
from stock_pipeline.domain.slice_state import SliceState
from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    session_close,
    sessions_between,
)
from stock_pipeline.services.quarantine import SymbolHealth, quarantined_symbols
from stock_pipeline.services.registry import registered_symbols
from stock_pipeline.settings.automation import final_grace, retained_since
from stock_pipeline.warehouse.completeness import slice_states
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect


@dataclass
class SymbolStatus:
    symbol: str
    latest: dict[str, str] = field(default_factory=dict)  # interval -> newest bar
    missing: list[date] = field(default_factory=list)  # nothing stored
    provisional: list[date] = field(default_factory=list)  # not final (close + grace)
    short: list[date] = field(default_factory=list)  # final, too few bars: to fetch again
    short_confirmed: list[date] = field(default_factory=list)  # short, accepted as Yahoo's
    quarantine: SymbolHealth | None = None

    @property
    def gaps(self) -> int:
        return (
            len(self.missing) + len(self.provisional) + len(self.short) + len(self.short_confirmed)
        )


@dataclass
class StatusReport:
    interval: str
    window: tuple[date, date] | None  # closed sessions examined, oldest and newest
    symbols: list[SymbolStatus]


def status_window(now: datetime, interval: str) -> list[date]:
    """Closed sessions within Yahoo's lookback for ``interval`` and the retention period."""
    oldest = (now - intraday_spec(interval).lookback).astimezone(NEW_YORK).date()
    first = max(oldest, retained_since(now))
    days = sessions_between(first, now.astimezone(NEW_YORK).date())
    return [d for d in days if session_close(d) <= now]


def latest_bars(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Newest stored bar per symbol and interval: intraday in New York time, daily as dates."""
    found: dict[str, dict[str, str]] = {s: {} for s in symbols}
    intraday = con.execute(
        """SELECT symbol, interval, max(ts) FROM intraday_prices
           WHERE symbol IN (SELECT unnest(?)) GROUP BY symbol, interval""",
        [list(symbols)],
    ).fetchall()
    for symbol, interval, ts in intraday:
        stamp = pd.Timestamp(ts).tz_convert(NEW_YORK)
        found[symbol][interval] = f"{stamp:%Y-%m-%d %H:%M}"
    daily = con.execute(
        """SELECT symbol, interval, max(date) FROM daily_prices
           WHERE symbol IN (SELECT unnest(?)) GROUP BY symbol, interval""",
        [list(symbols)],
    ).fetchall()
    for symbol, interval, day in daily:
        found[symbol][interval] = pd.Timestamp(day).date().isoformat()
    return found


def classify(state: SliceState) -> str | None:
    """missing, provisional, short, short_confirmed, or None when the session is complete."""
    return None if state.complete else state.status


def collect_status(
    instance: dg.DagsterInstance,
    database: Lake | Path,
    now: datetime,
    interval: str = DEFAULT_INTRADAY_INTERVAL,
) -> StatusReport:
    symbols = registered_symbols(instance)
    quarantined = quarantined_symbols(instance)
    days = status_window(now, interval)
    statuses = {s: SymbolStatus(s, quarantine=quarantined.get(s)) for s in symbols}
    window = (days[0], days[-1]) if days else None
    if not symbols or not database.exists():
        for status in statuses.values():
            status.missing = list(days)
        return StatusReport(interval, window, list(statuses.values()))
    with connect(database, read_only=True) as con:
        for symbol, latest in latest_bars(con, symbols).items():
            statuses[symbol].latest = latest
        states = slice_states(con, symbols, days, interval, final_grace()) if days else []
    for state in states:
        kind = classify(state)
        if kind is not None:
            getattr(statuses[state.symbol], kind).append(state.day)
    return StatusReport(interval, window, list(statuses.values()))
