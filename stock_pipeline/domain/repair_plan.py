"""What the sensors should fetch: history for new symbols, and the gaps in stored bars.

Plain functions over the calendar, the symbol order and ``completeness.slice_states``;
the sensors in ``sensors.py`` turn their answers into run requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from stock_pipeline.defs.retention import retained_since
from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.market_schedule import new_york_date
from stock_pipeline.domain.planning import window_bounds
from stock_pipeline.domain.symbols import normalize_symbol
from stock_pipeline.domain.trading_calendar import (
    expected_bar_count,
    session_close,
    session_open,
    sessions_between,
)
from stock_pipeline.settings.automation import SYMBOLS_FILE_ENV
from stock_pipeline.warehouse.completeness import SliceState

# A run starts a while after the tick that requested it: keep a day clear of Yahoo's limit.
LOOKBACK_MARGIN = timedelta(days=1)
# After the close the hourly schedule's last tick fetches the final bars; the sensor only
# repairs a session whose final fetch did not happen within this long.
CLOSE_GRACE = timedelta(minutes=15)


def read_symbol_file(path: Path) -> list[str]:
    """Symbols of a list file: one per line, ``#`` starts a comment, order kept."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise FileNotFoundError(
            f"cannot read the symbol list {path} (${SYMBOLS_FILE_ENV}): {exc}"
        ) from exc
    symbols: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            symbols.setdefault(normalize_symbol(value), None)
        except InvalidSymbolError as exc:
            raise InvalidSymbolError(f"{path}:{number}: {exc}") from exc
    if not symbols:
        raise InvalidSymbolError(
            f"{path} lists no symbols; refusing to unregister every symbol. Remove the "
            f"variable to manage symbols with `stock-pipeline symbols add/remove` instead"
        )
    return list(symbols)


def lookback_sessions(now: datetime, interval: str, partition_days: Iterable[date]) -> list[date]:
    """Sessions that have opened, are partitions, Yahoo still serves at ``interval``, and
    retention keeps (fetching what retention deletes tonight would loop every day)."""
    oldest = now - intraday_spec(interval).lookback + LOOKBACK_MARGIN
    today = new_york_date(now)
    first = max(new_york_date(oldest), retained_since(now))
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
