"""Runs and rows per New York day, failure rate, Yahoo requests: from the run history."""

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from stock_pipeline.background import JobStatus, inspect, submit_intraday_sync
from stock_pipeline.background.stats import RunFact, summarize

SINCE = datetime(2026, 11, 20, tzinfo=UTC)


def test_runs_are_counted_per_new_york_day() -> None:
    facts = [
        RunFact(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), JobStatus.SUCCEEDED, 78, 3),
        # 22:00 New York on the 24th is already the 25th in UTC: still the 24th here.
        RunFact(datetime(2026, 11, 25, 3, 0, tzinfo=UTC), JobStatus.FAILED, 0, 7),
        RunFact(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), JobStatus.SUCCEEDED, 156, 4),
        RunFact(datetime(2026, 11, 25, 16, 0, tzinfo=UTC), JobStatus.QUEUED),
        RunFact(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), JobStatus.CANCELED),
    ]
    stats = summarize(facts, SINCE)
    assert [d.day for d in stats.days] == [date(2026, 11, 24), date(2026, 11, 25)]
    first, second = stats.days
    assert (first.runs, first.succeeded, first.failed, first.rows, first.requests) == (
        2,
        1,
        1,
        78,
        10,
    )
    assert (second.runs, second.succeeded, second.unfinished, second.canceled) == (3, 1, 1, 1)
    assert (stats.runs, stats.finished, stats.failed) == (5, 4, 1)
    assert stats.failure_rate == pytest.approx(0.25)
    assert (stats.rows, stats.requests) == (234, 14)


def test_no_runs_means_no_failures() -> None:
    stats = summarize([], SINCE)
    assert stats.days == [] and stats.failure_rate == 0.0


def test_stats_read_the_instance_runs(instance_with_symbols: dg.DagsterInstance) -> None:
    handle = submit_intraday_sync(["AAPL", "ZZGONE"], eager=True, instance=instance_with_symbols)
    result = handle.wait(timeout=0)
    stats = inspect(instance_with_symbols).stats(days=1)
    assert (stats.runs, stats.failed, stats.failure_rate) == (2, 1, 0.5)
    assert stats.rows == result.rows > 0
    assert stats.requests == result.requests > 0
    assert len(stats.days) == 1  # runs created just now, on today's New York date
