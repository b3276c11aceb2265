"""Partition keys as values: ``2026-11-27|AAPL`` (symbol, day) and ``2026|AAPL`` (symbol, year).

Dagster joins a multi-partition key's dimension values sorted by name (date, symbol) with
``|``; this module reads and writes that form without importing Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from stock_pipeline.domain.symbols import normalize_symbol


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
    return f"{day.isoformat()}|{symbol}"


def history_key(symbol: str, year: int) -> str:
    return f"{year}|{symbol}"


def _split(key: str) -> tuple[str, str]:
    first, sep, symbol = key.partition("|")
    if not sep:
        raise ValueError(f"partition key {key!r} is not of the form 'DATE|SYMBOL'")
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
