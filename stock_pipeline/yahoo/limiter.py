"""The process-wide pace of Yahoo requests: a gap between requests, at a rate that adapts.

``RateLimiter`` spaces the requests; ``domain.pacing.AdaptiveRate`` decides the rate from
the answers (climbing while they come without 429, halving on one).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from stock_pipeline.domain import pacing, stopping
from stock_pipeline.yahoo.circuit import RATE_LIMITED

log = logging.getLogger(__name__)

# A request let go less than this many gaps after the one before went at the limiter's pace:
# the rate was in use, so its answer is evidence about that rate.
PACED_WITHIN = 1.5


@dataclass(frozen=True)
class Turn:
    """A request let go by the limiter: when, at what rate, and whether at its pace."""

    at: float  # time.monotonic() (the limiter's clock) when it was let go
    rate: float | None = None  # the rate it went at (None: no limit)
    paced: bool = False  # it waited for, or came right on, its slot: the rate was in use
    decreases: int = 0  # halvings of the rate before it went


class RateLimiter:
    """Lets requests go at least 1/rate seconds apart across all threads of a process.

    The gap is measured from the instant the previous request was actually let go, not
    from a slot reserved for it in advance: a thread that wakes late (busy interpreter)
    then delays the next one instead of leaving the two close together — which a server
    counting requests in a sliding one-second window refuses with 429 (BENCHMARKS.md, B7).
    Waiting threads queue on the lock; the one at its head sleeps out the gap, measured
    again after each sleep (a 429 may have halved the rate meanwhile).

    The rate adapts (``domain.pacing.AdaptiveRate``): it starts at ``requests_per_second``,
    climbs towards ``max_requests_per_second`` while answers come without 429 and halves
    on a 429 (``record``). No ceiling, or one at or below the start: a fixed pace.
    """

    def __init__(
        self,
        requests_per_second: float | None,
        max_requests_per_second: float | None = None,
        sleep: Callable[[float], None] = stopping.sleep,
        clock: Callable[[], float] = time.monotonic,
        step: float = pacing.STEP,
        climb_after: int = pacing.CLIMB_AFTER,
    ) -> None:
        self.requests_per_second = requests_per_second
        self.max_requests_per_second = max_requests_per_second
        self.policy = (
            pacing.AdaptiveRate(requests_per_second, max_requests_per_second, step, climb_after)
            if requests_per_second
            else None
        )
        self._last = -math.inf
        self._lock = threading.Lock()  # the queue of waiting requests
        self._rate_lock = threading.Lock()  # the policy: never held while sleeping
        self._sleep = sleep
        self._clock = clock

    @property
    def rate(self) -> float | None:
        """The rate requests go at now (None: no limit)."""
        if self.policy is None:
            return None
        with self._rate_lock:
            return self.policy.rate

    def acquire(self) -> Turn:
        """Wait for this request's turn; the turn, to hand to ``record`` with its answer."""
        if self.policy is None:
            return Turn(self._clock())
        with self._lock:
            previous = self._last
            while True:
                with self._rate_lock:
                    rate, decreases = self.policy.rate, self.policy.decreases
                wait = previous + 1.0 / rate - self._clock()
                if wait <= 0:
                    break
                self._sleep(wait)
            self._last = self._clock()
            paced = self._last - previous < PACED_WITHIN / rate
            return Turn(self._last, rate, paced, decreases)

    def record(self, turn: Turn, status: int | None) -> None:
        """The answer to a request let go at ``turn`` (0 or None: none came): a clean one
        counts towards a climb, a 429 halves the rate. 5xx and failed connections say
        nothing about the rate."""
        if self.policy is None or turn.rate is None or not status:
            return
        with self._rate_lock:
            if status == RATE_LIMITED:
                change = self.policy.refused(turn.rate, turn.decreases)
            else:
                change = None
                if status < 500:
                    self.policy.answered(turn.paced)
        if change is not None:
            log.warning(
                "Yahoo answered 429 at %.2f requests/s: pacing at %.2f/s now, climbing "
                "to %.2f/s at most from here on",
                change.refused_at,
                change.rate,
                change.ceiling,
            )
