"""Turning (symbol, trading day) partitions into as few Yahoo requests as Yahoo allows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stock_pipeline.domain.errors import LookbackExceededError
from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.trading_calendar import NEW_YORK, sessions_between


@dataclass(frozen=True)
class FetchWindow:
    """One chart request: the sessions of a symbol it serves, oldest first."""

    symbol: str
    sessions: tuple[date, ...]

    @property
    def first(self) -> date:
        return self.sessions[0]

    @property
    def last(self) -> date:
        return self.sessions[-1]


def plan_intraday_windows(
    partitions: Iterable[tuple[str, date]], interval: str
) -> list[FetchWindow]:
    """Group partitions by symbol into windows as wide as Yahoo's span limit allows.

    S symbols × D days cost S × ceil(span / max span) requests, not S × D. Days a window
    covers but nobody asked for (gaps) are fetched and dropped: one wider request is
    cheaper than two.
    """
    max_span = timedelta(days=intraday_spec(interval).max_days_per_request)
    by_symbol: dict[str, set[date]] = defaultdict(set)
    for symbol, day in partitions:
        by_symbol[symbol].add(day)
    windows: list[FetchWindow] = []
    for symbol in sorted(by_symbol):
        current: list[date] = []
        for day in sorted(by_symbol[symbol]):
            # A window spans midnight of its first day to midnight after its last.
            if current and (day + timedelta(days=1) - current[0]) > max_span:
                windows.append(FetchWindow(symbol, tuple(current)))
                current = []
            current.append(day)
        windows.append(FetchWindow(symbol, tuple(current)))
    return windows


def window_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """period1/period2 of a request: New York midnight before ``first`` and after ``last``."""
    start = datetime(first.year, first.month, first.day, tzinfo=NEW_YORK)
    end_day = last + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=NEW_YORK)
    return start, end


def check_lookback(first: date, interval: str, now: datetime) -> None:
    """Refuse, before any request, a day Yahoo will not serve at this interval."""
    spec = intraday_spec(interval)
    start, _ = window_bounds(first, first)
    oldest = now - spec.lookback
    if start < oldest:
        oldest_day = sessions_between(
            oldest.astimezone(NEW_YORK).date() + timedelta(days=1), now.astimezone(NEW_YORK).date()
        )
        hint = f"; the oldest day it serves now is {oldest_day[0]}" if oldest_day else ""
        raise LookbackExceededError(
            f"{interval} bars for {first} are beyond Yahoo's lookback: it serves {interval} "
            f"data only within the last {spec.lookback_days} days{hint}. Use a coarser "
            f"interval (60m reaches 730 days back, 1d has no limit) or a later date."
        )


@dataclass(frozen=True)
class Rectangle:
    """Positions (inclusive) in the symbol order and the date order: one Dagster run."""

    first_symbol: int
    last_symbol: int
    first_date: int
    last_date: int


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """Consecutive stretches of sorted positions as (first, last)."""
    stretches: list[tuple[int, int]] = []
    for pos in positions:
        if stretches and pos == stretches[-1][1] + 1:
            stretches[-1] = (stretches[-1][0], pos)
        else:
            stretches.append((pos, pos))
    return stretches


def cover_with_rectangles(
    cells: Iterable[tuple[int, int]], max_symbols: int | None = None
) -> list[Rectangle]:
    """Cover (symbol position, date position) cells exactly with few rectangles.

    Dagster runs carry a key range in each dimension (ranges over symbols follow their
    registration order), so an arbitrary set of partitions becomes several runs: symbols
    whose missing days form the same date stretch share a run when they are neighbours.
    ``max_symbols`` caps the symbols per run (the seed's --batch-size).
    """
    days_by_symbol: dict[int, list[int]] = defaultdict(list)
    for sym, day in cells:
        days_by_symbol[sym].append(day)
    symbols_by_stretch: dict[tuple[int, int], list[int]] = defaultdict(list)
    for sym, days in days_by_symbol.items():
        for stretch in _runs(sorted(set(days))):
            symbols_by_stretch[stretch].append(sym)
    found: list[Rectangle] = []
    for (first_day, last_day), syms in sorted(symbols_by_stretch.items()):
        for first_sym, last_sym in _runs(sorted(syms)):
            step = max_symbols or (last_sym - first_sym + 1)
            for lo in range(first_sym, last_sym + 1, step):
                hi = min(lo + step - 1, last_sym)
                found.append(Rectangle(lo, hi, first_day, last_day))
    return sorted(found, key=lambda r: (r.first_symbol, r.first_date))
