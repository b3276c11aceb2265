"""The limiter: requests at least 1/rate apart across threads, measured from when each really
went; its rate climbs with clean answers at pace and halves on a 429 (the policy itself is
``domain.test_pacing``); a fixed pace stays fixed.
"""

from __future__ import annotations

import itertools
import random
import threading
import time

from stock_pipeline.yahoo.limiter import RateLimiter, Turn

RATE = 50.0  # requests per second: a 20 ms gap


def release_instants(limiter: RateLimiter, threads: int, each: int) -> list[float]:
    instants: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(each):
            instant = limiter.acquire().at
            with lock:
                instants.append(instant)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sorted(instants)


def test_threads_share_one_rate() -> None:
    instants = release_instants(RateLimiter(RATE), threads=4, each=10)
    gaps = [b - a for a, b in itertools.pairwise(instants)]
    assert len(instants) == 40
    assert min(gaps) >= 1 / RATE
    # No window of one second holds more than RATE requests.
    assert all(instants[i + int(RATE)] - instants[i] >= 1.0 for i in range(len(instants) - 50))


def test_a_late_wake_up_delays_the_next_request_instead_of_bunching_them() -> None:
    """A busy interpreter wakes a sleeping thread late; the gap still holds from then on."""

    def oversleep(seconds: float) -> None:
        time.sleep(seconds + random.uniform(0, 3 / RATE))

    instants = release_instants(RateLimiter(RATE, sleep=oversleep), threads=4, each=8)
    gaps = [b - a for a, b in itertools.pairwise(instants)]
    assert min(gaps) >= 1 / RATE


def test_no_rate_means_no_waiting() -> None:
    limiter = RateLimiter(None)
    start = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - start < 0.5


# The adaptive rate, on a clock the test moves -------------------------------------------


class Clock:
    """``time.monotonic`` and ``sleep`` that only move when asked."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter_on(clock: Clock, start: float, ceiling: float | None) -> RateLimiter:
    return RateLimiter(start, ceiling, sleep=clock.sleep, clock=clock, step=1.0, climb_after=3)


def gaps_of(limiter: RateLimiter, requests: int, status: int = 200) -> list[float]:
    """Send ``requests`` one after another, each answered ``status``; the gaps between them."""
    instants = []
    for _ in range(requests):
        turn = limiter.acquire()
        limiter.record(turn, status)
        instants.append(turn.at)
    return [round(b - a, 6) for a, b in itertools.pairwise(instants)]


def test_the_gap_shrinks_as_the_rate_climbs_to_its_ceiling_and_no_further() -> None:
    clock = Clock()
    limiter = limiter_on(clock, 2.0, 4.0)
    gaps = gaps_of(limiter, 12)
    # The first request goes at once; 3 answers at 2/s, 3 at 3/s, then 4/s for good.
    assert gaps == [0.5, 0.5, 0.5, 0.333333, 0.333333, 0.333333] + [0.25] * 5
    assert limiter.rate == 4.0


def test_a_429_halves_the_rate_and_the_climb_stops_below_it() -> None:
    clock = Clock()
    limiter = limiter_on(clock, 2.0, 10.0)
    gaps_of(limiter, 10)
    assert limiter.rate == 5.0
    limiter.record(limiter.acquire(), 429)
    assert limiter.rate == 2.5
    assert limiter.policy is not None and limiter.policy.ceiling == 4.0
    assert gaps_of(limiter, 2)[-1] == 0.4  # the next requests go 1/2.5 s apart
    gaps_of(limiter, 30)
    assert limiter.rate == 4.0


def test_requests_in_flight_when_a_429_came_halve_the_rate_once() -> None:
    clock = Clock()
    limiter = limiter_on(clock, 8.0, 10.0)
    in_flight = [limiter.acquire() for _ in range(3)]
    for turn in in_flight:
        limiter.record(turn, 429)
    assert limiter.rate == 4.0
    limiter.record(limiter.acquire(), 429)  # sent after the halving: a new event
    assert limiter.rate == 2.0


def test_a_halving_while_a_request_waits_lengthens_its_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(4.0, 10.0, clock=clock)
    refused = limiter.acquire()

    def sleep(seconds: float) -> None:  # another thread's 429 arrives during the wait
        clock.sleep(seconds)
        if limiter.rate == 4.0:
            limiter.record(refused, 429)

    limiter._sleep = sleep
    assert limiter.acquire().at - refused.at == 0.5  # 1/2 s, not the 1/4 s it began waiting


def test_answers_after_idle_gaps_do_not_climb() -> None:
    clock = Clock()
    limiter = limiter_on(clock, 2.0, 10.0)
    for _ in range(20):
        clock.now += 5.0  # the process asks far slower than its rate allows
        limiter.record(limiter.acquire(), 200)
    assert limiter.rate == 2.0


def test_server_errors_and_failed_connections_say_nothing_about_the_rate() -> None:
    clock = Clock()
    limiter = limiter_on(clock, 2.0, 10.0)
    gaps_of(limiter, 20, status=503)
    gaps_of(limiter, 20, status=0)
    assert limiter.rate == 2.0


def test_a_fixed_pace_never_climbs_nor_halves() -> None:
    for ceiling in (None, 2.0):
        clock = Clock()
        limiter = limiter_on(clock, 2.0, ceiling)
        assert set(gaps_of(limiter, 20)) == {0.5}
        assert set(gaps_of(limiter, 5, status=429)) == {0.5}
        assert limiter.rate == 2.0


def test_without_a_rate_a_turn_carries_no_rate_and_answers_change_nothing() -> None:
    limiter = RateLimiter(None, 10.0)
    turn = limiter.acquire()
    assert turn == Turn(turn.at) and limiter.rate is None
    limiter.record(turn, 429)
    assert limiter.rate is None
