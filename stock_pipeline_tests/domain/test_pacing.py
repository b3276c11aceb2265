"""The adaptive rate: climbs by a step per run of clean answers up to its ceiling, halves on a
429 (once per event), lowers its ceiling below the wall it found, never drops under its floor;
a ceiling at the start is a fixed pace."""

from __future__ import annotations

import pytest

from stock_pipeline.domain.pacing import AdaptiveRate


def answer(rate: AdaptiveRate, times: int, paced: bool = True) -> None:
    for _ in range(times):
        rate.answered(paced)


def test_it_climbs_one_step_per_run_of_clean_answers_up_to_the_ceiling_and_no_further() -> None:
    rate = AdaptiveRate(5.0, 10.0, step=0.5, climb_after=20)
    answer(rate, 19)
    assert rate.rate == 5.0
    answer(rate, 1)
    assert rate.rate == 5.5
    answer(rate, 20 * 9)
    assert rate.rate == 10.0
    answer(rate, 1000)
    assert rate.rate == 10.0 and rate.ceiling == 10.0


def test_answers_to_requests_not_sent_at_pace_earn_no_climb() -> None:
    """An idle process proves nothing about a faster one."""
    rate = AdaptiveRate(5.0, 10.0, step=0.5, climb_after=20)
    answer(rate, 100, paced=False)
    assert rate.rate == 5.0


def test_a_429_halves_the_rate_and_lowers_the_ceiling_below_the_rate_that_drew_it() -> None:
    rate = AdaptiveRate(4.0, 10.0, step=1.0, climb_after=2)
    answer(rate, 8)
    assert rate.rate == 8.0
    change = rate.refused(8.0, rate.decreases)
    assert change is not None and (change.refused_at, change.rate, change.ceiling) == (8, 4, 7)
    assert (rate.rate, rate.ceiling, rate.refusals) == (4.0, 7.0, 1)
    answer(rate, 100)
    assert rate.rate == 7.0  # climbs again, to the lowered ceiling only


def test_429s_of_requests_sent_before_the_halving_are_the_same_event() -> None:
    rate = AdaptiveRate(4.0, 10.0, step=1.0, climb_after=2)
    answer(rate, 8)
    in_flight = rate.decreases  # three requests let go at 8/s, all refused
    assert rate.refused(8.0, in_flight) is not None
    assert rate.refused(8.0, in_flight) is None
    assert rate.refused(8.0, in_flight) is None
    assert (rate.rate, rate.ceiling, rate.refusals) == (4.0, 7.0, 3)
    assert rate.refused(4.0, rate.decreases) is not None  # a request sent after it: new
    assert (rate.rate, rate.ceiling) == (2.0, 3.0)


def test_the_rate_and_the_ceiling_never_go_below_the_floor() -> None:
    rate = AdaptiveRate(4.0, 10.0, step=0.5, climb_after=20)
    for _ in range(10):
        rate.refused(rate.rate, rate.decreases)
    assert rate.floor == 1.0
    assert rate.rate == 1.0 and rate.ceiling == 1.0
    answer(rate, 100)
    assert rate.rate == 1.0


def test_the_half_of_a_climb_done_when_a_429_came_starts_over() -> None:
    rate = AdaptiveRate(4.0, 10.0, step=1.0, climb_after=4)
    answer(rate, 4 + 3)
    assert rate.rate == 5.0
    rate.refused(5.0, rate.decreases)
    answer(rate, 3)
    assert rate.rate == 2.5  # the 3 answers before the 429 do not count any more
    answer(rate, 1)
    assert rate.rate == 3.5


@pytest.mark.parametrize("ceiling", [None, 5.0, 3.0])
def test_a_ceiling_at_or_below_the_start_is_a_fixed_pace(ceiling: float | None) -> None:
    rate = AdaptiveRate(5.0, ceiling, step=0.5, climb_after=1)
    assert not rate.adaptive
    answer(rate, 100)
    assert rate.rate == 5.0
    assert rate.refused(5.0, rate.decreases) is None  # the circuit breaker handles 429s
    assert (rate.rate, rate.ceiling, rate.refusals) == (5.0, 5.0, 1)


def test_the_start_must_be_a_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptiveRate(0.0, 10.0)
