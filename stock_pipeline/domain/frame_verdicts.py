"""The intraday verdicts of every (symbol, day) partition in a run's frame, judged at once.

An hourly sync writes about 5,000 partitions and its check step reads them back. Judged
one partition at a time (``verdicts.intraday_verdicts``), pandas' per-group overhead
(groupby, tz_convert, to_datetime, duplicated) cost 7-10 ms a partition: 35-50 s of CPU
per pass on a 2-core machine that must finish the sync in 10 minutes (BENCHMARKS.md).
Here the rules run as column operations over the whole frame (integer nanoseconds, one
sort for the slot rule, counts per group with ``bincount``) and only the Python that
builds each verdict runs per partition. A partition that breaks an OHLC, uniqueness or
session rule (rare) is judged again by ``intraday_verdicts`` alone, so its description
names every violation in exactly the per-partition text; so is any partition whose rows
this path cannot read as plain values (missing timestamps or intervals, a closed day),
which keeps one behaviour, errors included. The bar count needs no such fallback: it is
built by the same ``interval_count`` from the same ``count_expectation``. No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import pandas as pd

from stock_pipeline.domain.intervals import intraday_spec, normalize_intraday_interval
from stock_pipeline.domain.partition_keys import SymbolDay, intraday_key
from stock_pipeline.domain.session_rules import CountExpectation, count_expectation
from stock_pipeline.domain.trading_calendar import (
    DEFAULT_FINAL_GRACE,
    expected_bar_starts,
    final_after,
    is_session,
    session_close,
    session_open,
)
from stock_pipeline.domain.validation import ohlc_row_flags
from stock_pipeline.domain.verdicts import (
    Verdict,
    interval_count,
    intraday_checks,
    intraday_verdicts,
)

Judged = dict[str, dict[str, Verdict]]
_COLUMNS = ("symbol", "session_date", "interval", "ts", "fetched_at", "volume")
_NS_PER_US = 1000


def intraday_partition_verdicts(
    frame: pd.DataFrame,
    grace: timedelta = DEFAULT_FINAL_GRACE,
    confirmed_short: Mapping[str, Iterable[str]] | None = None,
) -> Judged:
    """The intraday checks on each (symbol, day) slice of a frame about to be written.

    ``frame``: canonical intraday rows with ``fetched_at`` set; keyed by partition key, in
    the order the partitions first appear. ``confirmed_short``: per partition key, the
    intervals this write confirms as short.
    """
    confirmed = confirmed_short or {}
    try:
        return _judge(frame, grace, confirmed)
    except _Unreadable:
        return _one_by_one(frame, grace, confirmed)


def stored_intraday_verdicts(
    frame: pd.DataFrame,
    partitions: Iterable[SymbolDay],
    grace: timedelta = DEFAULT_FINAL_GRACE,
    confirmed_short: Mapping[tuple[str, date], Iterable[str]] | None = None,
) -> Judged:
    """The intraday checks on ``partitions`` from the rows read back for them (``frame``);
    a partition without a row gets the 'no bars stored' verdicts. ``confirmed_short``: per
    (symbol, day), the intervals confirmed short."""
    by_key = {intraday_key(s, d): v for (s, d), v in (confirmed_short or {}).items()}
    judged = intraday_partition_verdicts(frame, grace, by_key)
    none = frame.iloc[0:0]
    return {
        p.key: judged.get(p.key) or intraday_verdicts(p.day, none, grace, by_key.get(p.key, ()))
        for p in partitions
    }


class _Unreadable(Exception):
    """The frame's columns are not the canonical types the whole-frame path reads."""


def _one_by_one(
    frame: pd.DataFrame, grace: timedelta, confirmed: Mapping[str, Iterable[str]]
) -> Judged:
    """Each partition through ``intraday_verdicts``: the reference the fast path matches."""
    judged: Judged = {}
    for group, rows in frame.groupby(["symbol", "session_date"], sort=False):
        symbol, stamp = cast(tuple[str, date], group)
        day = pd.Timestamp(stamp).date()
        key = intraday_key(str(symbol), day)
        judged[key] = intraday_verdicts(day, rows, grace, confirmed.get(key, ()))
    return judged


def _utc_ns(column: pd.Series) -> np.ndarray:
    """Epoch nanoseconds of a tz-aware column (NaT as int64 min); naive ones are unreadable
    (the per-partition rules refuse them too)."""
    try:
        index = pd.DatetimeIndex(column)
    except (TypeError, ValueError) as error:
        raise _Unreadable(str(error)) from error
    if index.tz is None:
        raise _Unreadable("naive timestamps")
    return index.as_unit("ns").asi8


@dataclass(frozen=True)
class _Day:
    """One session's instants in epoch nanoseconds, read from the calendar once a run."""

    day: date
    readable: bool  # a session whose session_date values all read as this day
    opened: int = 0
    closed: int = 0
    final: int = 0  # close plus grace: an answer at or after it is final


def _day(raw: date, grace: timedelta) -> _Day:
    day = pd.Timestamp(raw).date()
    # session_violations reads session_date with to_datetime: it must agree with the key.
    agrees = pd.to_datetime(pd.Series([raw])).dt.date.iloc[0] == day
    if not agrees or not is_session(day):
        return _Day(day, False)
    return _Day(
        day,
        True,
        pd.Timestamp(session_open(day)).value,
        pd.Timestamp(session_close(day)).value,
        pd.Timestamp(final_after(day, grace)).value,
    )


def _bar_ends(day: date, interval: str) -> np.ndarray:
    """When each of the session's bars closes (the last one at the close), as in
    ``bars_closed_by``."""
    starts = expected_bar_starts(day, interval).as_unit("ns").asi8
    bar = intraday_spec(interval).minutes * 60_000_000_000
    return np.minimum(starts + bar, pd.Timestamp(session_close(day)).value)


def _judge(frame: pd.DataFrame, grace: timedelta, confirmed: Mapping[str, Iterable[str]]) -> Judged:
    if frame.empty:
        return {}
    if any(c not in frame.columns for c in _COLUMNS):
        raise _Unreadable("a canonical column is missing")
    ts = _utc_ns(frame["ts"])
    fetched = _utc_ns(frame["fetched_at"])

    symbol_codes, symbols = pd.factorize(frame["symbol"])
    day_codes, raw_days = pd.factorize(frame["session_date"])
    interval_codes, raw_intervals = pd.factorize(frame["interval"])
    names = [str(s) for s in symbols]
    days = [_day(d, grace) for d in raw_days]
    intervals = [str(i) for i in raw_intervals]
    if len(set(names)) < len(names) or len({d.day for d in days}) < len(days):
        raise _Unreadable("two raw values name one partition")

    if (symbol_codes < 0).any() or (day_codes < 0).any():
        raise _Unreadable("rows without a symbol or session_date belong to no partition")
    # Partitions in the order they first appear, as groupby(sort=False) yields them.
    partition_codes, partition_firsts = pd.factorize(
        symbol_codes.astype(np.int64) * len(days) + day_codes
    )
    count = len(partition_firsts)
    order = np.argsort(partition_codes, kind="stable")
    bounds = np.searchsorted(partition_codes[order], np.arange(count + 1))

    width = len(intervals) + 1  # the last: rows without an interval
    group = partition_codes.astype(np.int64) * width + np.where(
        interval_codes >= 0, interval_codes, len(intervals)
    )
    dirty = np.zeros(count, dtype=bool)
    broken = _broken_rows(frame, ts, fetched, days, day_codes, intervals, interval_codes)
    dirty[partition_codes[broken]] = True
    dirty[_shared_slots(ts, days, day_codes, intervals, interval_codes, group) // width] = True

    groups = count * width
    rows = np.bincount(group, minlength=groups).reshape(count, width)
    first_fetch = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_fetch, group, fetched)
    fetch_us = (first_fetch // _NS_PER_US).reshape(count, width)

    by_name = sorted(range(len(intervals)), key=lambda i: raw_intervals[i])
    partition_symbol = (partition_firsts // len(days)).tolist()
    partition_day = (partition_firsts % len(days)).tolist()
    expectations = _Expectations(grace)
    judged: Judged = {}
    for p in range(count):
        info = days[partition_day[p]]
        key = intraday_key(names[partition_symbol[p]], info.day)
        accepted = set(confirmed.get(key, ()))
        if dirty[p]:
            part = frame.iloc[order[bounds[p] : bounds[p + 1]]]
            judged[key] = intraday_verdicts(info.day, part, grace, accepted)
            continue
        present = [
            (intervals[i], int(rows[p, i]), int(fetch_us[p, i])) for i in by_name if rows[p, i]
        ]
        total = int(bounds[p + 1] - bounds[p])
        judged[key] = _clean(info, total, present, accepted, expectations)
    return judged


def _clean(
    day: _Day,
    total: int,
    present: list[tuple[str, int, int]],
    accepted: set[str],
    expectations: _Expectations,
) -> dict[str, Verdict]:
    """A partition no row rule flagged: only its bar count per (interval, rows, first
    fetch in microseconds) is left to judge, as ``intraday_verdicts`` does."""
    counts = []
    count_meta: dict[str, str | int] = {}
    for interval, rows, fetched_us in present:
        expectation = expectations.get(day, interval, fetched_us)
        meta, problem = interval_count(interval, rows, expectation, accepted)
        count_meta.update(meta)
        if problem is not None:
            counts.append(problem)
    named = [interval for interval, _, _ in present]
    return intraday_checks(total, named, [], [], [], counts, count_meta)


def _broken_rows(
    frame: pd.DataFrame,
    ts: np.ndarray,
    fetched: np.ndarray,
    days: list[_Day],
    day_codes: np.ndarray,
    intervals: list[str],
    interval_codes: np.ndarray,
) -> np.ndarray:
    """Rows breaking an OHLC or session rule, or that the column rules cannot read (no
    interval or timestamp, a day that is no session): their partitions are judged alone."""
    nat = np.iinfo(np.int64).min
    known = np.array([_known(i) for i in intervals] + [False], dtype=bool)  # [-1]: none
    session = np.array([d.readable for d in days], dtype=bool)
    odd = ~known[interval_codes] | ~session[day_codes] | (ts == nat) | (fetched == nat)
    opened, closed = _opens(days, day_codes), _closes(days, day_codes)
    bar = _bar_ns(intervals)[interval_codes]
    outside = (ts < opened) | (ts >= closed)
    off_grid = (ts - opened) % bar != 0
    return odd | ohlc_row_flags(frame).any() | outside | off_grid


def _shared_slots(
    ts: np.ndarray,
    days: list[_Day],
    day_codes: np.ndarray,
    intervals: list[str],
    interval_codes: np.ndarray,
    group: np.ndarray,
) -> np.ndarray:
    """The (partition, interval) group of every row sharing a bar slot with another row of
    its group (``duplicate_violations``: a repeated timestamp shares its slot too)."""
    slot = (ts - _opens(days, day_codes)) // _bar_ns(intervals)[interval_codes]
    by_slot = np.lexsort((slot, group))
    g, s = group[by_slot], slot[by_slot]
    return g[1:][(g[1:] == g[:-1]) & (s[1:] == s[:-1])]


def _opens(days: list[_Day], day_codes: np.ndarray) -> np.ndarray:
    return np.array([d.opened for d in days], dtype=np.int64)[day_codes]


def _closes(days: list[_Day], day_codes: np.ndarray) -> np.ndarray:
    return np.array([d.closed for d in days], dtype=np.int64)[day_codes]


def _bar_ns(intervals: list[str]) -> np.ndarray:
    """Bar length per interval code in nanoseconds; the last entry (no interval) and
    unknown intervals get a placeholder minute: their partitions are judged alone."""
    minutes = [intraday_spec(i).minutes if _known(i) else 1 for i in intervals] + [1]
    return np.array(minutes, dtype=np.int64) * 60_000_000_000


def _known(interval: str) -> bool:
    try:
        normalize_intraday_interval(interval)
    except ValueError:
        return False
    return True


class _Expectations:
    """``count_expectation`` once per (day, interval, final, bars closed): all it reads
    of the fetch time, so thousands of partitions fetched a moment apart share one."""

    def __init__(self, grace: timedelta) -> None:
        self._grace = grace
        self._ends: dict[tuple[date, str], np.ndarray] = {}
        self._known: dict[tuple[date, str, bool, int], CountExpectation] = {}

    def get(self, day: _Day, interval: str, fetched_us: int) -> CountExpectation:
        stamp = fetched_us * _NS_PER_US  # what the reference's to_pydatetime keeps
        final = stamp >= day.final
        closed = 0
        if not final:
            ends = self._ends.get((day.day, interval))
            if ends is None:
                ends = self._ends[(day.day, interval)] = _bar_ends(day.day, interval)
            closed = int(np.searchsorted(ends, stamp, side="right"))
        key = (day.day, interval, final, closed)
        found = self._known.get(key)
        if found is None:
            moment = pd.Timestamp(stamp, tz="UTC").to_pydatetime()
            found = self._known[key] = count_expectation(day.day, interval, moment, self._grace)
        return found
