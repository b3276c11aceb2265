"""New York clock facts Yahoo puts in its answers: offsets, trading periods, market state."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any

from stock_pipeline.domain.trading_calendar import NEW_YORK
from stock_pipeline.fake_yahoo.market import session_table

EXCHANGE_TIMEZONE = "America/New_York"
_EPOCH = date(1970, 1, 1)
_POST_HOURS = 4 * 3600


def ny_zone(epoch_s: float) -> tuple[str, int]:
    """(abbreviation, UTC offset in seconds) in New York at an instant: ("EST", -18000)."""
    local = datetime.fromtimestamp(epoch_s, NEW_YORK)
    offset = local.utcoffset()
    return local.tzname() or "EST", int(offset.total_seconds()) if offset else -18000


def ny_date(epoch_s: float) -> date:
    return datetime.fromtimestamp(epoch_s, NEW_YORK).date()


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def _at(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, time(hour, minute), NEW_YORK).timestamp())


def _period(start: int, end: int) -> dict[str, Any]:
    abbrev, offset = ny_zone(start)
    return {"timezone": abbrev, "start": start, "end": end, "gmtoffset": offset}


@functools.lru_cache(maxsize=20_000)
def session_periods(index: int) -> dict[str, dict[str, Any]]:
    """Pre (04:00 to open), regular, and post (close + 4 h) periods of a session."""
    tab = session_table()
    opened, closed = int(tab.opens[index]), int(tab.closes[index])
    day = _EPOCH + timedelta(days=int(tab.days[index]))
    return {
        "pre": _period(_at(day, 4), opened),
        "regular": _period(opened, closed),
        "post": _period(closed, closed + _POST_HOURS),
    }


def current_session(now_s: float) -> int:
    """Today's session in New York, or the next one: Yahoo's ``currentTradingPeriod``."""
    tab = session_table()
    return min(tab.index_of_first_day_at_or_after(day_number(ny_date(now_s))), len(tab.days) - 1)


def current_trading_period(now_s: float) -> dict[str, dict[str, Any]]:
    periods = session_periods(current_session(now_s))
    return {"pre": periods["pre"], "regular": periods["regular"], "post": periods["post"]}


def market_state(now_s: float) -> str:
    """PREPRE, PRE, REGULAR, POST, POSTPOST on session days; CLOSED otherwise."""
    tab = session_table()
    index = tab.index_of_day(day_number(ny_date(now_s)))
    if index is None:
        return "CLOSED"
    periods = session_periods(index)
    for state in ("pre", "regular", "post"):
        span = periods[state]
        if span["start"] <= now_s < span["end"]:
            return state.upper()
    return "PREPRE" if now_s < periods["pre"]["start"] else "POSTPOST"
