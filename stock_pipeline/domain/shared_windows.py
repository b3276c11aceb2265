"""Which other days of a backfill to fetch along with a run's own: one window per symbol.

Dagster splits a backfill of D days × S symbols into runs that each hold one dimension
constant, whichever has fewer values; with fewer days than symbols every run is one day of
every symbol. A run that fetched only its own day would spend one chart request per
(symbol, day). Fetching, with the run's own day, the symbol's other days that the same
backfill wants costs the same single request (Yahoo serves up to 60 days of 5m bars in one)
and leaves the backfill's later runs nothing to ask Yahoo for. Pure: calendar and limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.planning import window_bounds
from stock_pipeline.domain.trading_calendar import session_open


def shared_window_days(
    fetching: Iterable[tuple[str, date]],
    wanted: Mapping[str, Iterable[date]],
    skip: set[tuple[str, date]],
    interval: str,
    now: datetime,
) -> list[tuple[str, date]]:
    """(symbol, day) cells to fetch beside ``fetching``: for each symbol being fetched, the
    days ``wanted`` for it that are not being fetched, not in ``skip`` (already stored), and
    that Yahoo serves now (opened, within the interval's lookback), in order."""
    oldest = now - intraday_spec(interval).lookback
    own: dict[str, set[date]] = {}
    for symbol, day in fetching:
        own.setdefault(symbol, set()).add(day)
    extra = []
    for symbol in sorted(own):
        for day in sorted(set(wanted.get(symbol, ()))):
            if day in own[symbol] or (symbol, day) in skip:
                continue
            if window_bounds(day, day)[0] < oldest or session_open(day) > now:
                continue
            extra.append((symbol, day))
    return extra
