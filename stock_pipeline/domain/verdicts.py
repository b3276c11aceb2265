"""The verdict of each asset check on one partition's stored rows. No Dagster here.

``defs/checks.py`` reads a run's partitions from DuckDB and folds these verdicts into one
Dagster check result per check and run (``run_verdict``); the price assets judge the bars
they are about to write the same way and record each partition's verdicts in its
materialization metadata (``partition_summary``). The rules themselves live in the other
domain modules. Every verdict carries the count of offending rows per rule (0 when clean),
so a failing check shows in the UI what is wrong and how much of it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

import pandas as pd

from stock_pipeline.domain.consistency import DayBar, mismatches
from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL, INTRADAY_INTERVALS
from stock_pipeline.domain.moves import MOVE_LIMIT, daily_moves, unexplained
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.domain.session_rules import (
    CountExpectation,
    count_expectation,
    duplicate_violations,
    session_violations,
)
from stock_pipeline.domain.trading_calendar import (
    DEFAULT_FINAL_GRACE,
    is_session,
    session_is_final,
)
from stock_pipeline.domain.validation import Violation, ohlc_violations

# Check names, shared by the check specs and the tests.
OHLC_SANE = "ohlc_sane"
UNIQUE_BARS = "unique_bars"
BARS_IN_SESSION = "bars_in_session"
BAR_COUNT = "bar_count_matches_calendar"
MATCHES_INTRADAY = "matches_intraday_bars"
DAILY_MOVE = "daily_move_plausible"
# Failures that mean corrupt data: they stop the run and what is downstream of it.
BLOCKING_CHECKS = frozenset({OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION})

OHLC_RULES = ("nan_price", "non_positive_price", "ohlc_order", "negative_volume")
UNIQUE_RULES = ("duplicate_ts", "duplicate_slot")
SESSION_RULES = ("wrong_session_date", "outside_session", "off_grid")
DAILY_RULES = (*OHLC_RULES, "duplicate_bar", "non_session_date")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str
    metadata: dict[str, str | int] = field(default_factory=dict)


def _rule_verdict(
    rows: int, rules: tuple[str, ...], violations: list[Violation], what: str
) -> Verdict:
    counts = dict.fromkeys(rules, 0)
    for v in violations:
        counts[v.rule] = counts.get(v.rule, 0) + v.rows
    bad = [str(v) for v in violations]
    description = "; ".join(bad) if bad else f"{rows} row(s), {what}"
    return Verdict(not bad, description, {"rows": rows, **counts})


def _by_interval(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(interval): rows for interval, rows in frame.groupby("interval", sort=True)}


def intraday_verdicts(
    day: date,
    frame: pd.DataFrame,
    grace: timedelta = DEFAULT_FINAL_GRACE,
    confirmed_short: Iterable[str] = (),
) -> dict[str, Verdict]:
    """All intraday checks on one (symbol, day) partition's rows, every interval stored
    (``grace``: after the close, before which an answer is provisional). ``confirmed_short``:
    the intervals whose short count Yahoo confirmed by repeated fetches (``short_sessions``):
    too few bars there is what Yahoo has, reported but not a failure."""
    accepted = set(confirmed_short)
    if frame.empty:
        none = Verdict(True, "no bars stored for this partition", {"rows": 0})
        missing = Verdict(False, "no bars stored for this partition", {"rows": 0})
        return {OHLC_SANE: none, UNIQUE_BARS: none, BARS_IN_SESSION: none, BAR_COUNT: missing}
    groups = _by_interval(frame)
    ohlc: list[Violation] = []
    unique: list[Violation] = []
    session: list[Violation] = []
    counts: list[Violation] = []
    count_meta: dict[str, str | int] = {}
    for interval, rows in groups.items():
        ohlc += [v for v in ohlc_violations(rows) if v.rule != "duplicate_bar"]
        unique += duplicate_violations(rows, day, interval)
        session += session_violations(rows, day, interval)
        fetched = pd.Timestamp(rows["fetched_at"].min()).to_pydatetime()
        expectation = count_expectation(day, interval, fetched, grace)
        meta, problem = interval_count(interval, len(rows), expectation, accepted)
        count_meta.update(meta)
        if problem is not None:
            counts.append(problem)
    return intraday_checks(len(frame), list(groups), ohlc, unique, session, counts, count_meta)


def interval_count(
    interval: str, rows: int, expectation: CountExpectation, accepted: Container[str]
) -> tuple[dict[str, str | int], Violation | None]:
    """One interval's BAR_COUNT metadata and its violation, if any: a short count Yahoo
    confirmed (``accepted``) is reported in the metadata, not a violation."""
    meta: dict[str, str | int] = {
        f"bars_{interval}": rows,
        f"expected_{interval}": f"{expectation.low}-{expectation.high}",
        f"final_{interval}": "yes" if expectation.final else "no (provisional)",
    }
    problem = expectation.judge(rows)
    if problem is not None and problem.rule == "too_few_bars" and interval in accepted:
        meta[f"short_confirmed_{interval}"] = f"yes: {problem.detail}"
        return meta, None
    if problem is not None:
        return meta, Violation(f"{problem.rule}_{interval}", problem.rows, problem.detail)
    return meta, None


def intraday_checks(
    total: int,
    intervals: list[str],
    ohlc: list[Violation],
    unique: list[Violation],
    session: list[Violation],
    counts: list[Violation],
    count_meta: dict[str, str | int],
) -> dict[str, Verdict]:
    """A non-empty partition's four verdicts from what its rules found: one text for the
    per-partition path (``intraday_verdicts``) and the whole-run one (``frame_verdicts``)."""
    named = ", ".join(intervals)
    count_text = "; ".join(str(v) for v in counts)
    return {
        OHLC_SANE: _rule_verdict(total, OHLC_RULES, ohlc, f"prices ordered ({named})"),
        UNIQUE_BARS: _rule_verdict(total, UNIQUE_RULES, unique, "one row per bar"),
        BARS_IN_SESSION: _rule_verdict(total, SESSION_RULES, session, "all inside the session"),
        BAR_COUNT: Verdict(
            not counts,
            count_text or f"bar counts match the calendar ({named})",
            {"rows": total, "missing_or_extra_bars": sum(v.rows for v in counts), **count_meta},
        ),
    }


def daily_sanity(frame: pd.DataFrame) -> Verdict:
    """OHLC rules on one (symbol, year) partition, plus daily bars dated on a closed day."""
    if frame.empty:
        return Verdict(True, "no bars stored for this partition", {"rows": 0})
    violations: list[Violation] = []
    for interval, rows in _by_interval(frame).items():
        violations += ohlc_violations(rows, key="date")
        if interval == "1d":
            closed = int(sum(not is_session(d) for d in pd.to_datetime(rows["date"]).dt.date))
            if closed:
                violations.append(
                    Violation("non_session_date", closed, "daily bars only on NYSE sessions")
                )
    return _rule_verdict(len(frame), DAILY_RULES, violations, "prices ordered")


def pick_intraday_day(
    candidates: pd.DataFrame, grace: timedelta = DEFAULT_FINAL_GRACE
) -> pd.Series | None:
    """Of a day's per-interval aggregates, the one to compare with the daily bar: final
    and complete, the default interval first, then the finest.

    ``candidates``: rows with interval, rows, fetched_at (and the aggregates).
    """
    order = [DEFAULT_INTRADAY_INTERVAL, *INTRADAY_INTERVALS]
    for interval in order:
        match = candidates[candidates["interval"] == interval]
        if match.empty:
            continue
        row = match.iloc[0]
        day = pd.Timestamp(row["session_date"]).date()
        fetched = pd.Timestamp(row["fetched_at"]).to_pydatetime()
        expectation = count_expectation(day, interval, fetched, grace)
        if expectation.final and expectation.judge(int(row["rows"])) is None:
            return row
    return None


def daily_consistency(
    daily: pd.DataFrame,
    intraday: Mapping[date, DayBar],
    grace: timedelta = DEFAULT_FINAL_GRACE,
) -> Verdict:
    """Daily (1d) bars against the day aggregated from complete, final intraday bars.

    ``daily``: the partition's 1d rows; ``intraday``: per day, the chosen aggregate. Days
    without both sides final are not compared (intraday rows are kept for 30 days only).
    """
    compared = 0
    problems: list[str] = []
    for row in daily.to_dict("records"):
        day = pd.Timestamp(row["date"]).date()
        other = intraday.get(day)
        if other is None:
            continue
        fetched = row["fetched_at"]
        if pd.isna(fetched) or not session_is_final(day, pd.Timestamp(fetched), grace):
            continue  # the daily bar was still forming when it arrived
        compared += 1
        bar = DayBar(float(row["high"]), float(row["low"]), float(row["close"]), int(row["volume"]))
        found = mismatches(bar, other)
        if found:
            problems.append(f"{day}: " + ", ".join(found))
    meta: dict[str, str | int] = {"days_compared": compared, "days_mismatched": len(problems)}
    if problems:
        return Verdict(False, "; ".join(problems[:10]), meta)
    text = f"{compared} day(s) agree" if compared else "no day with both sides final"
    return Verdict(True, text, meta)


Previous = tuple[date, float]  # the last stored session before a partition: (day, close)
Splits = Mapping[str, Iterable[tuple[date, float]]]  # per symbol: (ex_date, ratio)


def move_verdict(
    symbol: str,
    daily: pd.DataFrame,
    previous: Previous | None,
    splits: Iterable[tuple[date, float]],
) -> Verdict:
    """Close-to-close moves of one (symbol, year) partition's 1d rows beyond ±40 % that no
    split explains (``domain.moves``); the first session is compared with ``previous``."""
    rows = daily.sort_values("date")
    days = [pd.Timestamp(d).date() for d in rows["date"]]
    moves = daily_moves(symbol, days, rows["close"].tolist(), previous, splits)
    bad = unexplained(moves)
    meta: dict[str, str | int] = {"moves_compared": len(moves), "unexplained_moves": len(bad)}
    if bad:
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        return Verdict(False, "; ".join(str(m) for m in bad[:10]) + more, meta)
    if not moves:
        return Verdict(True, "no daily (1d) closes to compare", meta)
    return Verdict(
        True, f"{len(moves)} move(s) within ±{MOVE_LIMIT:.0%} or explained by a split", meta
    )


def _previous_close(
    frame: pd.DataFrame, symbol: str, year: int, stored: Mapping[tuple[str, int], Previous]
) -> Previous | None:
    """The last 1d close before ``year``: from the frame's earlier years, else stored."""
    earlier = frame[
        (frame["symbol"] == symbol)
        & (frame["interval"] == "1d")
        & (frame["year"] < year)
        & (frame["close"] > 0)
    ]
    if not earlier.empty:
        last = earlier.sort_values("date").iloc[-1]
        return pd.Timestamp(last["date"]).date(), float(last["close"])
    return stored.get((symbol, year))


# How many offending partitions a run's check result names (the rest are counted).
PARTITIONS_NAMED = 50


@dataclass(frozen=True)
class RunVerdict:
    """One check's verdict on every partition a run checked: what Dagster records once.

    ``metadata`` holds the partitions checked and failed, each integer count of the
    partitions' verdicts summed over the run, and the failing partitions (the first
    ``PARTITIONS_NAMED``) with what is wrong with each.
    """

    passed: bool
    description: str
    metadata: dict[str, int | dict[str, str]]


def run_verdict(by_partition: Mapping[str, Verdict]) -> RunVerdict:
    """Fold one check's per-partition verdicts into the run's one result."""
    failed = {key: v for key, v in sorted(by_partition.items()) if not v.passed}
    totals: dict[str, int] = {}
    for verdict in by_partition.values():
        for name, value in verdict.metadata.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    named = dict(list(failed.items())[:PARTITIONS_NAMED])
    checked = len(by_partition)
    if failed:
        shown = "; ".join(f"{key}: {v.description}" for key, v in list(named.items())[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        description = f"{len(failed)} of {checked} partition(s) failed: {shown}{more}"
    else:
        description = f"{checked} partition(s) passed"
        if checked == 1:
            description += ": " + next(iter(by_partition.values())).description
    return RunVerdict(
        passed=not failed,
        description=description,
        metadata={
            "partitions_checked": checked,
            "partitions_failed": len(failed),
            **totals,
            "failed_partitions": {key: v.description for key, v in named.items()},
        },
    )


def partition_summary(by_check: Mapping[str, Verdict]) -> dict[str, str]:
    """One partition's verdicts as materialization metadata: ``check/<name>`` → text."""
    return {
        f"check/{name}": "passed" if v.passed else f"FAILED: {v.description}"
        for name, v in by_check.items()
    }


def history_partition_verdicts(
    frame: pd.DataFrame,
    splits: Splits | None = None,
    previous: Mapping[tuple[str, int], Previous] | None = None,
) -> dict[str, dict[str, Verdict]]:
    """The daily checks on each (symbol, year) slice of a frame about to be written.

    Sanity always; with ``splits`` (per symbol) the daily moves too, each partition's first
    session compared with the last one before it in the frame or, failing that, in
    ``previous`` (per (symbol, year): the last stored 1d session before that year).
    Whether daily bars match the intraday ones needs the stored intraday days: that
    verdict is the run check's alone.
    """
    judged: dict[str, dict[str, Verdict]] = {}
    for group, rows in frame.groupby(["symbol", "year"], sort=False):
        key = cast(tuple[str, int], group)
        symbol, year = str(key[0]), int(key[1])
        verdicts = {OHLC_SANE: daily_sanity(rows)}
        if splits is not None:
            before = _previous_close(frame, symbol, year, previous or {})
            daily = rows[rows["interval"] == "1d"]
            verdicts[DAILY_MOVE] = move_verdict(symbol, daily, before, splits.get(symbol, ()))
        judged[history_key(symbol, year)] = verdicts
    return judged
