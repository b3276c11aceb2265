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
    expected_bar_count,
    session_close,
    session_open,
    sessions_between,
)

# A run starts a while after the tick that requested it: keep a day clear of Yahoo's limit.
LOOKBACK_MARGIN = timedelta(days=1)
# After the close the hourly schedule's last tick fetches the final bars; the sensor only
# repairs a session whose final fetch did not happen within this long.
CLOSE_GRACE = timedelta(minutes=15)


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


def closed_sessions(days: Sequence[date], now: datetime) -> list[date]:
    """Sessions closed long enough ago that their final bars should be stored."""
    return [day for day in days if session_close(day) + CLOSE_GRACE <= now]


def nothing_stored(symbols: Sequence[str], days: Sequence[date], interval: str) -> list[SliceState]:
    """Slice states before the warehouse file exists: every partition missing."""
    return [
        SliceState(symbol, day, 0, expected_bar_count(day, interval), final=False)
        for symbol in symbols
        for day in days
    ]


def gaps(
    states: Iterable[SliceState],
    order: Sequence[str],
    skip: set[tuple[str, date]],
    limit: int,
) -> list[tuple[str, date]]:
    """Missing or provisional (symbol, day) cells, newest session first, at most ``limit``.

    A final partition with fewer bars than the calendar expects is not fetched again:
    Yahoo's answer after the close is what it has (the bar-count check reports it).
    """
    pos = {s: i for i, s in enumerate(order)}
    todo = [
        (st.symbol, st.day)
        for st in states
        if not st.complete and (st.symbol, st.day) not in skip and st.symbol in pos
    ]
    todo.sort(key=lambda cell: (-cell[1].toordinal(), pos[cell[0]]))
    return todo[:limit]
