"""Partition keys as values: ``2026-11-27|AAPL`` (symbol, day) and ``2026|AAPL`` (symbol, year).

Dagster joins a multi-partition key's dimension values sorted by name (date, symbol) with
``|``; this module reads and writes that form without importing Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL, INTRADAY_SPECS
from stock_pipeline.domain.symbols import normalize_symbol

KEY_SEPARATOR = "|"  # Dagster joins dimension values, sorted by name, with it
SYMBOLS = "symbols"  # the dynamic partitions of registered symbols
PARTITION_TIMEZONE = "America/New_York"
HISTORY_FIRST_YEAR = 1980  # daily/weekly history: one partition per year from here
# Intraday partitions: sessions from this many calendar days back on
# (STOCK_PIPELINE_INTRADAY_WINDOW_DAYS). By default Yahoo's lookback at the default interval
# (60 days for 2m-90m bars) plus a margin, so the first day the sensors and `status` examine
# (60 days back, less a day) is always a partition, and the 30-day retention lies within.
# Every session more costs each UI backfill, whose validation builds every symbol x session
# key (BENCHMARKS.md, B8).
INTRADAY_WINDOW_MARGIN_DAYS = 3
DEFAULT_INTRADAY_WINDOW_DAYS = (
    INTRADAY_SPECS[DEFAULT_INTRADAY_INTERVAL].lookback_days + INTRADAY_WINDOW_MARGIN_DAYS
)


def intraday_window_start(today: date, days: int) -> date:
    """``days`` calendar days before ``today``: the first intraday partition, or the first
    session after it. The start moves with every day, so the window holds only sessions
    Yahoo can still serve at the default interval, not up to a month more."""
    if days < 0:
        raise ValueError(f"the intraday window cannot reach {days} days back")
    return today - timedelta(days=days)


@dataclass(frozen=True, order=True)
class SymbolDay:
    """One intraday partition."""

    symbol: str
    day: date

    @property
    def key(self) -> str:
        return intraday_key(self.symbol, self.day)


@dataclass(frozen=True, order=True)
class SymbolYear:
    """One history partition."""

    symbol: str
    year: int

    @property
    def key(self) -> str:
        return history_key(self.symbol, self.year)


def intraday_key(symbol: str, day: date) -> str:
    return f"{day.isoformat()}{KEY_SEPARATOR}{symbol}"


def history_key(symbol: str, year: int) -> str:
    return f"{year}{KEY_SEPARATOR}{symbol}"


def split_key(key: str) -> tuple[str, str]:
    """``("2026-11-27", "AAPL")`` of ``2026-11-27|AAPL`` (or a year key), as written."""
    first, sep, symbol = key.partition(KEY_SEPARATOR)
    if not sep:
        raise ValueError(f"partition key {key!r} is not of the form 'DATE|SYMBOL'")
    return first, symbol


def symbol_of(key: str) -> str | None:
    """The symbol of a price partition key; None for a key without a symbol dimension."""
    try:
        return split_key(key)[1]
    except ValueError:
        return None


def _split(key: str) -> tuple[str, str]:
    first, symbol = split_key(key)
    return first, normalize_symbol(symbol)


def parse_intraday_keys(keys: Iterable[str]) -> list[SymbolDay]:
    parsed = []
    for key in keys:
        day, symbol = _split(key)
        parsed.append(SymbolDay(symbol, date.fromisoformat(day)))
    return sorted(parsed)


def parse_history_keys(keys: Iterable[str]) -> list[SymbolYear]:
    parsed = []
    for key in keys:
        year, symbol = _split(key)
        parsed.append(SymbolYear(symbol, int(year)))
    return sorted(parsed)
