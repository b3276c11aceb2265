"""What the sensors should fetch: history for new symbols, and the gaps in stored bars.

Plain functions over the calendar, the symbol order and ``completeness.slice_states``;
the sensors in ``sensors.py`` turn their answers into run requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.market_schedule import new_york_date
from stock_pipeline.domain.planning import window_bounds
from stock_pipeline.domain.slice_state import SliceState
from stock_pipeline.domain.trading_calendar import (
    DEFAULT_FINAL_GRACE,
    expected_bar_count,
    session_is_final,
    session_open,
    sessions_between,
)

# A run starts a while after the tick that requested it: keep a day clear of Yahoo's limit.
LOOKBACK_MARGIN = timedelta(days=1)


def lookback_sessions(
    now: datetime, interval: str, partition_days: Iterable[date], kept_since: date
) -> list[date]:
    """Sessions that have opened, are partitions, Yahoo still serves at ``interval``, and
    retention keeps from ``kept_since`` on (fetching what retention deletes tonight would
    loop every day)."""
    oldest = now - intraday_spec(interval).lookback + LOOKBACK_MARGIN
    today = new_york_date(now)
    first = max(new_york_date(oldest), kept_since)
    available = set(partition_days)
    return [
        day
        for day in sessions_between(first, today)
        if day in available and window_bounds(day, day)[0] >= oldest and session_open(day) <= now
    ]


def closed_sessions(
    days: Sequence[date], now: datetime, grace: timedelta = DEFAULT_FINAL_GRACE
) -> list[date]:
    """Sessions whose final bars can be fetched now: closed at least ``grace`` ago (the
    grace period that makes an answer final; before it, the hourly schedule's last tick
    fetches the session)."""
    return [day for day in days if session_is_final(day, now, grace)]


def nothing_stored(symbols: Sequence[str], days: Sequence[date], interval: str) -> list[SliceState]:
    """Slice states before the warehouse file exists: every partition missing."""
    expected = {day: expected_bar_count(day, interval) for day in days}
    return [
        SliceState(symbol, day, 0, expected[day], final=False, fewest=expected[day])
        for symbol in symbols
        for day in days
    ]


def gaps(
    states: Iterable[SliceState],
    order: Sequence[str],
    skip: set[tuple[str, date]],
    limit: int,
) -> list[tuple[str, date]]:
    """Missing, provisional or short (symbol, day) cells, newest session first, at most
    ``limit``.

    A final partition with fewer bars than the calendar allows is fetched again until it is
    complete or confirmed short (``slice_state``: the first fetch and a bounded number
    more); a confirmed one is Yahoo's last word and is left alone.
    """
    pos = {s: i for i, s in enumerate(order)}
    todo = [
        (st.symbol, st.day)
        for st in states
        if not st.settled and (st.symbol, st.day) not in skip and st.symbol in pos
    ]
    todo.sort(key=lambda cell: (-cell[1].toordinal(), pos[cell[0]]))
    return todo[:limit]
