"""When the scheduled syncs should run: the NYSE calendar asked about one instant.

Schedules fire on New York wall-clock crons (09:30, every hour at :30, 13:00, 16:00) on
every weekday; this module decides, from the calendar's UTC opens and closes, whether a
given instant is really a market open, an hourly bar close or the session close, and if
not, why. Comparing UTC instants with the calendar's UTC session times means daylight
saving needs no special case. No Dagster here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    expected_bar_starts,
    is_early_close,
    is_session,
    latest_session,
    nyse,
    session_close,
    session_open,
)

HOURLY_INTERVAL = "60m"


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant!r} has no timezone; give an aware datetime (UTC)")


def new_york_date(instant: datetime) -> date:
    """The New York calendar date of an instant: 21:30 New York is still that day."""
    _require_aware(instant)
    return instant.astimezone(NEW_YORK).date()


def ny_clock(instant: datetime) -> str:
    """HH:MM in New York, for messages."""
    return instant.astimezone(NEW_YORK).strftime("%H:%M")


@functools.cache
def _holiday_names(year: int) -> dict[date, str]:
    """Regular NYSE holidays of a year with exchange_calendars' names."""
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    named = nyse().regular_holidays.holidays(start, end, return_name=True)
    return {ts.date(): str(name) for ts, name in named.items()}


def closed_reason(day: date) -> str | None:
    """Why the NYSE does not trade on ``day`` (None when it is a session)."""
    if is_session(day):
        return None
    if day.weekday() >= 5:
        why = day.strftime("%A")
    else:
        why = _holiday_names(day.year).get(day, "special closure")
    return f"{day.isoformat()}: NYSE closed ({why})"


def hourly_sync_instants(day: date) -> list[datetime]:
    """When each hourly bar of the session has closed, in UTC.

    Hourly bars start at the open, so they close at 10:30, 11:30, …, 15:30 and the last
    (30-minute) one at the close: 7 on a full day; 10:30, 11:30, 12:30, 13:00 (4) on a
    13:00 early close. Empty for a non-session.
    """
    if not is_session(day):
        return []
    close = pd.Timestamp(session_close(day))
    bar = pd.Timedelta(minutes=60)
    ends = [min(start + bar, close) for start in expected_bar_starts(day, HOURLY_INTERVAL)]
    return [end.to_pydatetime() for end in ends]


def is_market_open(instant: datetime) -> bool:
    """True while the NYSE regular session of the instant's New York day is trading."""
    day = new_york_date(instant)
    return is_session(day) and session_open(day) <= instant < session_close(day)


@dataclass(frozen=True)
class TickDecision:
    """What a scheduled instant means: the session to sync, or why nothing runs."""

    day: date
    skip_reason: str | None = None

    @property
    def runs(self) -> bool:
        return self.skip_reason is None


def _closed(instant: datetime) -> TickDecision | None:
    day = new_york_date(instant)
    reason = closed_reason(day)
    return TickDecision(day, reason) if reason else None


def decide_hourly(instant: datetime) -> TickDecision:
    """Run only at one of the session's hourly bar closes (the last one is the close)."""
    closed = _closed(instant)
    if closed:
        return closed
    day = new_york_date(instant)
    instants = hourly_sync_instants(day)
    if instant in instants:
        return TickDecision(day)
    closes = ", ".join(ny_clock(i) for i in instants)
    if instant > session_close(day):
        why = f"the session closed at {ny_clock(session_close(day))}"
        why += " (early close)" if is_early_close(day) else ""
    else:
        why = f"no hourly bar closes then; they close at {closes}"
    return TickDecision(day, f"{day.isoformat()} {ny_clock(instant)}: {why}")


def decide_open(instant: datetime) -> TickDecision:
    """Run only at the session's open."""
    closed = _closed(instant)
    if closed:
        return closed
    day = new_york_date(instant)
    opened = session_open(day)
    if instant == opened:
        return TickDecision(day)
    return TickDecision(
        day, f"{day.isoformat()} {ny_clock(instant)}: the session opens at {ny_clock(opened)}"
    )


def decide_close(instant: datetime) -> TickDecision:
    """Run only at the session's close: 16:00, or 13:00 on an early close."""
    closed = _closed(instant)
    if closed:
        return closed
    day = new_york_date(instant)
    close = session_close(day)
    if instant == close:
        return TickDecision(day)
    return TickDecision(
        day, f"{day.isoformat()} {ny_clock(instant)}: the session closes at {ny_clock(close)}"
    )


def decide_weekly(instant: datetime) -> TickDecision:
    """Run the weekly re-verification only while no session trades (a bar still forming
    would differ from itself); ``day``: the latest session, closed by then."""
    _require_aware(instant)
    if is_market_open(instant):
        day = new_york_date(instant)
        return TickDecision(
            day,
            f"{day.isoformat()} {ny_clock(instant)}: the session is trading; re-verification "
            f"waits for the close at {ny_clock(session_close(day))}",
        )
    return TickDecision(latest_session(instant))
