"""The NYSE calendar: sessions, early closes, and the bars a session should have.

Built on exchange_calendars with an explicit end bound (its default ends a year after
import). All instants returned are UTC; dates are New York session dates.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

from stock_pipeline.domain.errors import InvalidDateRangeError
from stock_pipeline.domain.intervals import intraday_spec

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_FIRST_DAY = date(1990, 1, 1)
# Explicit end: ten years ahead of the current year, so a long-running process stays valid.
CALENDAR_YEARS_AHEAD = 10
# Per-day answers are asked for every (symbol, day) by planning code: each costs an
# exchange_calendars look-up (~0.1-0.6 ms), so they are kept, a few years of days at most.
_DAYS_CACHED = 8192


@functools.cache
def nyse() -> xcals.ExchangeCalendar:
    """The XNYS calendar, built once per process."""
    end = date(date.today().year + CALENDAR_YEARS_AHEAD, 12, 31)
    return xcals.get_calendar("XNYS", start=CALENDAR_FIRST_DAY.isoformat(), end=end.isoformat())


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


@functools.lru_cache(maxsize=_DAYS_CACHED)
def is_session(day: date) -> bool:
    return bool(nyse().is_session(_ts(day)))


def sessions_between(start: date, end: date) -> list[date]:
    """Trading days from start to end, both included."""
    if start > end:
        raise InvalidDateRangeError(
            f"start date {start} is after end date {end}: swap them or fix the range"
        )
    found = nyse().sessions_in_range(_ts(start), _ts(end))
    return [ts.date() for ts in found]


@functools.lru_cache(maxsize=_DAYS_CACHED)
def session_open(day: date) -> datetime:
    return nyse().session_open(_ts(day)).to_pydatetime()


@functools.lru_cache(maxsize=_DAYS_CACHED)
def session_close(day: date) -> datetime:
    return nyse().session_close(_ts(day)).to_pydatetime()


def is_early_close(day: date) -> bool:
    close_ny = session_close(day).astimezone(NEW_YORK)
    return (close_ny.hour, close_ny.minute) < (16, 0)


def holidays_between(start: date, end: date) -> list[date]:
    """Weekdays the exchange is closed (regular and ad-hoc holidays)."""
    weekdays = pd.bdate_range(start, end)
    sessions = set(nyse().sessions_in_range(_ts(start), _ts(end)))
    return [d.date() for d in weekdays if d not in sessions]


def previous_session(day: date) -> date:
    """The last session strictly before ``day``."""
    return nyse().date_to_session(_ts(day - timedelta(days=1)), direction="previous").date()


def latest_session(now: datetime) -> date:
    """The session that is open at ``now``, or the last one that opened before it."""
    today = now.astimezone(NEW_YORK).date()
    if is_session(today) and now >= session_open(today):
        return today
    return previous_session(today)


def sessions_back(last: date, count: int) -> list[date]:
    """``count`` sessions ending with ``last`` (a session), oldest first."""
    cal = nyse()
    idx = cal.sessions.get_loc(_ts(last))
    return [ts.date() for ts in cal.sessions[max(0, idx - count + 1) : idx + 1]]


@functools.lru_cache(maxsize=_DAYS_CACHED)
def expected_bar_starts(day: date, interval: str) -> pd.DatetimeIndex:
    """UTC start times of the regular-session bars Yahoo serves for a session.

    Bars start at the open and every ``interval`` after it while before the close, so a
    full day has 78 5m bars or 7 hourly bars (the last one 30 minutes), an early close
    (13:00) 42 and 4.
    """
    spec = intraday_spec(interval)
    if not is_session(day):
        return pd.DatetimeIndex([], tz="UTC")
    opened = pd.Timestamp(session_open(day))
    closed = pd.Timestamp(session_close(day))
    return pd.date_range(opened, closed, freq=spec.bar_length, inclusive="left", tz="UTC")


@functools.lru_cache(maxsize=_DAYS_CACHED)
def expected_bar_count(day: date, interval: str) -> int:
    return len(expected_bar_starts(day, interval))


def bars_closed_by(day: date, interval: str, now: datetime) -> int:
    """How many of the session's bars have fully closed at ``now`` (provisional data)."""
    starts = expected_bar_starts(day, interval)
    close = pd.Timestamp(session_close(day))
    ends = [min(s + intraday_spec(interval).bar_length, close) for s in starts]
    stamp = pd.Timestamp(now)
    return sum(1 for end in ends if end <= stamp)


# Yahoo keeps amending a session's bars for a few minutes after the close (late prints,
# the closing auction): an answer is final only if it arrived this long after the close.
DEFAULT_FINAL_GRACE = timedelta(minutes=15)


def final_after(day: date, grace: timedelta = DEFAULT_FINAL_GRACE) -> datetime:
    """The first instant an answer about the session counts as final: close plus grace."""
    return session_close(day) + grace


def session_is_final(day: date, arrived: datetime, grace: timedelta = DEFAULT_FINAL_GRACE) -> bool:
    """True when an answer that arrived at ``arrived`` holds the session's final bars:
    at or after the close plus ``grace`` (an answer at the close itself may still change)."""
    return arrived >= final_after(day, grace)


def latest_final_session(arrived: datetime, grace: timedelta = DEFAULT_FINAL_GRACE) -> date:
    """The last session whose final bars an answer that arrived at ``arrived`` holds."""
    day = latest_session(arrived)
    return day if session_is_final(day, arrived, grace) else previous_session(day)


@functools.lru_cache(maxsize=256)
def last_session_of_year(year: int) -> date:
    """The year's last NYSE session (Dec 31, or the last one before it)."""
    return nyse().date_to_session(_ts(date(year, 12, 31)), direction="previous").date()


def year_final_after(
    year: int, grace: timedelta = DEFAULT_FINAL_GRACE, through: date | None = None
) -> datetime:
    """When an answer about a whole year (daily or weekly bars) becomes final: its last
    session's close plus grace. A year's bars fetched before that (the 16:00 snapshot of
    Dec 31) are refreshed once after it. ``through``: the partition's last day when it is
    not Dec 31 (a weekly year ends on the Sunday after its last Monday, in January). Years
    before the calendar's first: the New Year after them (any answer since is final)."""
    end = through or date(year, 12, 31)
    if end.year < CALENDAR_FIRST_DAY.year:
        return datetime(end.year + 1, 1, 1, tzinfo=NEW_YORK)
    last = nyse().date_to_session(_ts(end), direction="previous").date()
    return final_after(last, grace)
