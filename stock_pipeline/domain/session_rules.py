"""What one stored session of intraday bars must look like, judged by the NYSE calendar.

Pure rules over canonical intraday frames (``stock_pipeline.domain.bars``) of one symbol,
one interval and one session: where bars may lie, how many there should be for the time
they were fetched, and which bar must be stored by a given instant. The asset checks run
them per partition; no Dagster here.

How many bars a complete day may miss: Yahoo sends a bar with every field null for an
interval without a trade and the canonical frame drops it, so a complete session can be a
bar short. Recorded real data shows it on the most liquid stock (AAPL 1m on 2024-10-02:
389 of 390 bars, one all-null bar at 11:15). A few minutes without a trade happen; a bar of
15 minutes or more without a single trade does not on an NYSE-listed share (it would be a
halt or Yahoo losing data). So the tolerance is relative to the interval: a final session
at 1m, 2m or 5m may miss up to 1% of its bars, at least one (1m: 3 of 390; 5m: 1 of 78);
at 15m and longer it may miss none (60m: 7 of 7; a 90m early close: 3 of 3, so 2 of 3 is
short). Fewer bars than that make a final session *short*: the BAR_COUNT check fails and
the planners fetch it again (``slice_state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.trading_calendar import (
    DEFAULT_FINAL_GRACE,
    NEW_YORK,
    bars_closed_by,
    expected_bar_count,
    expected_bar_starts,
    latest_session,
    previous_session,
    session_close,
    session_is_final,
    session_open,
)
from stock_pipeline.domain.validation import Violation

# Longest bar that may come without a trade on an NYSE-listed share (see the module).
NO_TRADE_BAR_MINUTES = 5


def missing_bars_tolerated(expected: int, interval: str) -> int:
    """Bars a complete session may lack because Yahoo dropped all-null ones (see module)."""
    if not expected or intraday_spec(interval).minutes > NO_TRADE_BAR_MINUTES:
        return 0
    return max(1, expected // 100)


def fewest_final_bars(day: date, interval: str) -> int:
    """The fewest bars a final session may hold without being short: one rule for the
    BAR_COUNT check (``count_expectation``), the planners and ``status``."""
    expected = expected_bar_count(day, interval)
    return expected - missing_bars_tolerated(expected, interval)


def session_violations(frame: pd.DataFrame, day: date, interval: str) -> list[Violation]:
    """Bars dated to another session, outside the regular session, or off the bar grid."""
    found: list[Violation] = []
    if frame.empty:
        return found
    ts = pd.DatetimeIndex(frame["ts"]).tz_convert("UTC")
    opened, closed = pd.Timestamp(session_open(day)), pd.Timestamp(session_close(day))
    wrong_date = int((pd.to_datetime(frame["session_date"]).dt.date != day).sum())
    if wrong_date:
        found.append(Violation("wrong_session_date", wrong_date, f"session_date must be {day}"))
    outside = int(((ts < opened) | (ts >= closed)).sum())
    if outside:
        span = f"{opened.tz_convert(NEW_YORK):%H:%M}-{closed.tz_convert(NEW_YORK):%H:%M} New York"
        found.append(Violation("outside_session", outside, f"bars must start within {span}"))
    bar = pd.Timedelta(intraday_spec(interval).bar_length)
    off_grid = int(((ts - opened) % bar != pd.Timedelta(0)).sum())
    if off_grid:
        found.append(
            Violation("off_grid", off_grid, f"bars start at the open plus a multiple of {interval}")
        )
    return found


def duplicate_violations(frame: pd.DataFrame, day: date, interval: str) -> list[Violation]:
    """Repeated timestamps, and two rows inside one bar's time slot (e.g. 09:30 and 09:32
    in 5m): the table's key cannot catch the second kind."""
    found: list[Violation] = []
    if frame.empty:
        return found
    ts = pd.Series(pd.DatetimeIndex(frame["ts"]).tz_convert("UTC"))
    repeated = int(ts.duplicated().sum())
    if repeated:
        found.append(Violation("duplicate_ts", repeated, "one row per bar start"))
    opened = pd.Timestamp(session_open(day))
    slots = (ts - opened) // pd.Timedelta(intraday_spec(interval).bar_length)
    shared = int(slots.duplicated().sum()) - repeated
    if shared > 0:
        found.append(Violation("duplicate_slot", shared, f"one row per {interval} slot"))
    return found


@dataclass(frozen=True)
class CountExpectation:
    """How many bars a stored session may hold, given when it was fetched."""

    day: date
    interval: str
    expected: int  # the full session's bars
    low: int
    high: int
    final: bool  # fetched after the close

    def judge(self, rows: int) -> Violation | None:
        if self.low <= rows <= self.high:
            return None
        what = "session" if self.final else "bars closed when fetched (provisional)"
        return Violation(
            "too_few_bars" if rows < self.low else "too_many_bars",
            abs(rows - (self.low if rows < self.low else self.high)),
            f"{rows} stored, {self.low}-{self.high} expected for the {what}; "
            f"a full {self.day} at {self.interval} has {self.expected}",
        )


def count_expectation(
    day: date, interval: str, fetched_at: datetime, grace: timedelta = DEFAULT_FINAL_GRACE
) -> CountExpectation:
    """Bars a session whose answer arrived at ``fetched_at`` should hold.

    Final (arrived at or after the close plus ``grace``): the calendar's count, less the
    tolerated all-null bars (``fewest_final_bars``). Provisional: the bars closed by the
    fetch, less the same tolerance, plus the one still forming that Yahoo already serves.
    """
    expected = expected_bar_count(day, interval)
    if session_is_final(day, fetched_at, grace):
        return CountExpectation(
            day, interval, expected, fewest_final_bars(day, interval), expected, True
        )
    closed = bars_closed_by(day, interval, fetched_at)
    low = max(0, closed - missing_bars_tolerated(closed, interval))
    return CountExpectation(day, interval, expected, low, min(expected, closed + 1), False)


def newest_bar_due(now: datetime, interval: str, lag: timedelta) -> pd.Timestamp:
    """Start (UTC) of the newest bar that must be stored at ``now``, given ``lag`` for the
    sync to notice the bar closed, run and store it.

    It only moves while a session trades: over a weekend or a holiday it stays the last
    bar of the previous session, so freshness is demanded on trading days only.
    """
    moment = now - lag
    day = latest_session(moment)
    starts = expected_bar_starts(day, interval)
    closed = bars_closed_by(day, interval, moment)
    if closed:
        return starts[closed - 1]
    return expected_bar_starts(previous_session(day), interval)[-1]
