"""Live progress: the tracker's counts and throttle, sums over runs, an ETA that knows the limit."""

from __future__ import annotations

import pytest

from stock_pipeline.domain.progress import (
    ProgressTracker,
    RunProgress,
    combine,
    eta_seconds,
)

KEYS = [f"2026-11-{d}|{s}" for s in ("AAPL", "MSFT") for d in (24, 25)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tracker(clock: Clock, published: list[RunProgress], every: float = 0.5) -> ProgressTracker:
    return ProgressTracker(
        "run-1",
        KEYS,
        published.append,
        asset="intraday_prices",
        interval="5m",
        requests_per_second=2.0,
        every=every,
        clock=clock,
        wall_clock=lambda: 1_000_000 + clock.now,
    )


def test_eta_is_the_observed_pace_when_the_rate_limit_is_not_binding() -> None:
    # 10 of 100 done in 20 s: 180 s left at that pace; 45 requests at 5/s need only 9 s.
    assert eta_seconds(10, 100, 20.0, 45, 5.0) == pytest.approx(180.0)


def test_eta_never_beats_the_rate_limit() -> None:
    # The first windows came fast (e.g. cached): the pace says 9 s, but 90 requests at
    # 2 per second take 45 s at least.
    assert eta_seconds(10, 100, 1.0, 90, 2.0) == pytest.approx(45.0)


def test_eta_before_anything_is_done_is_the_rate_limit_floor() -> None:
    assert eta_seconds(0, 50, 3.0, 50, 5.0) == pytest.approx(10.0)
    assert eta_seconds(0, 50, 3.0, 50, None) is None  # nothing known yet
    assert eta_seconds(50, 50, 3.0, 0, 5.0) == 0.0


def test_tracker_counts_partitions_symbols_rows_requests_and_failures() -> None:
    clock, published = Clock(), []
    t = tracker(clock, published)
    t.start()
    assert published[-1].partitions_total == 4 and published[-1].symbols_total == 2
    t.plan(2)
    t.requests(3)  # cookie, crumb, timezone quote
    t.window({KEYS[0]: 78, KEYS[1]: 78}, {}, requests=1)
    state = t.state
    assert (state.partitions_done, state.symbols_done, state.rows) == (2, 1, 156)
    assert (state.requests, state.price_requests_done, state.failed) == (4, 1, 0)
    t.window({KEYS[2]: 78}, {KEYS[3]: "NoDataError: nothing"}, requests=2)
    state = t.state
    assert (state.partitions_done, state.symbols_done, state.failed) == (4, 2, 1)
    assert state.stored == 3 and state.rows == 234 and state.requests == 6
    assert state.last_failure == f"{KEYS[3]}: NoDataError: nothing"


def test_keys_outside_the_run_and_repeats_are_not_counted_as_partitions() -> None:
    clock, published = Clock(), []
    t = tracker(clock, published)
    t.window({KEYS[0]: 78, "2026-11-20|AAPL": 78}, {}, requests=1)  # a backfill's extra day
    t.window({KEYS[0]: 78}, {}, requests=0)
    assert t.state.partitions_done == 1 and t.state.rows == 78
    assert t.state.requests == 1  # the extra day's request is still spent


def test_tracker_publishes_at_most_once_per_period_and_always_at_the_ends() -> None:
    clock, published = Clock(), []
    t = tracker(clock, published, every=0.5)
    t.start()
    assert len(published) == 1
    t.window({KEYS[0]: 78}, {}, requests=1)  # same instant: held back
    clock.now += 0.2
    t.window({KEYS[1]: 78}, {}, requests=1)
    assert len(published) == 1
    clock.now += 0.4
    t.window({KEYS[2]: 78}, {}, requests=1)
    assert len(published) == 2 and published[-1].partitions_done == 3
    t.finish_fetch()  # the end is published whatever the period
    assert len(published) == 3 and published[-1].phase == "storing"
    assert published[-1].partitions_done == 3
    assert published[-1].updated_at == 1_000_000 + clock.now


def test_a_running_tracker_publishes_the_rate_the_process_paces_at_now() -> None:
    """The Yahoo rate adapts during a run: each snapshot carries it, so the ETA's floor
    follows the rate reached instead of the configured start."""
    published: list[RunProgress] = []
    rates = iter([2.0, 2.5, 1.25])
    t = ProgressTracker(
        "run-1", KEYS, published.append, requests_per_second=2.0, rate=lambda: next(rates)
    )
    t.start()
    t.plan(4)
    t.finish_fetch()
    assert [p.requests_per_second for p in published] == [2.0, 2.5, 1.25]


def test_snapshots_survive_json() -> None:
    clock, published = Clock(), []
    t = tracker(clock, published)
    t.window({KEYS[0]: 78}, {KEYS[1]: "boom"}, requests=1)
    data = t.state.to_json()
    assert RunProgress.from_json({**data, "a_later_field": 1}) == t.state


def test_combine_sums_runs_and_bounds_the_eta_by_the_slowest_limit() -> None:
    first = RunProgress(
        "a",
        started_at=1000.0,
        symbols_total=2,
        symbols_done=2,
        partitions_total=4,
        partitions_done=4,
        rows=300,
        requests=5,
        price_requests_planned=2,
        price_requests_done=2,
        requests_per_second=5.0,
    )
    second = RunProgress(
        "b",
        phase="queued",
        symbols_total=2,
        partitions_total=4,
        price_requests_planned=40,
        requests_per_second=2.0,
    )
    total = combine([first, second], now=1004.0, finished_runs=1)
    assert (total.partitions_done, total.partitions_total) == (4, 8)
    assert (total.symbols_done, total.symbols_total, total.rows) == (2, 4, 300)
    assert total.elapsed == 4.0 and total.rate == 1.0
    assert total.requests_per_second == 2.0
    assert total.eta_seconds == pytest.approx(20.0)  # 40 requests at 2/s beat 4 s of pace
    assert not total.finished and total.runs_finished == 1 and total.runs_total == 2
    done = combine([first], now=1004.0, finished_runs=1, finished=True)
    assert done.finished and done.eta_seconds == 0.0
