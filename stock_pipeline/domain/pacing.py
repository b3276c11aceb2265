"""How fast to ask a server whose rate limit is unknown: additive increase, multiplicative
decrease (AIMD), as TCP finds a path's capacity.

The rate starts where it is configured and climbs by ``STEP`` requests per second after each
``CLIMB_AFTER`` clean answers, up to a ceiling. The step is counted in answers, not seconds:
a climb is earned by evidence, answers to requests that went out at the current pace (an
idle process proves nothing about a faster one), and each rate is held for ``CLIMB_AFTER``
requests before the next — 4 s at 5 req/s, 2 s at 10, longer than the one-second window a
server typically counts in. From 5 to 10 req/s that is 200 requests, about 29 s: the
price of not knowing the limit, small against an hourly 5,000-request sync.

A 429 halves the rate, and lowers the ceiling one step below the rate that drew it for the
rest of the process, so the climb stops short of the wall it found instead of knocking on
it every few hundred requests. 429s of requests let go before the halving answer the rate
already halved: they are the same event, not a reason to halve again (several requests
are in flight when a server starts refusing). The rate never falls below a quarter of the
start (``FLOOR_FRACTION``): two halvings cover a server far stricter than configured; a
server refusing everything is the circuit breaker's business (its cool-down stops every
request), and a process left crawling at a tiny rate would need thousands of requests
to climb back.

A ceiling at or below the start means a fixed pace: no climb and no halving, the 429s
left to the circuit breaker, as before this policy existed (``--delay``, bench B7).
"""

from __future__ import annotations

from dataclasses import dataclass

STEP = 0.5  # requests per second added per climb
CLIMB_AFTER = 20  # clean answers at the current pace per climb
FLOOR_FRACTION = 0.25  # the lowest rate, as a fraction of the start


@dataclass(frozen=True)
class RateChange:
    """What a 429 did to the rate: for the log."""

    refused_at: float  # the rate the refused request went out at
    rate: float  # the rate now
    ceiling: float  # the ceiling now


class AdaptiveRate:
    """The rate to pace requests at: AIMD between a floor and a ceiling.

    Not thread-safe: its caller (``RateLimiter``) holds a lock around every call.
    """

    def __init__(
        self,
        start: float,
        ceiling: float | None = None,
        step: float = STEP,
        climb_after: int = CLIMB_AFTER,
    ) -> None:
        if start <= 0:
            raise ValueError(f"the start rate must be positive, not {start!r}")
        self.start = start
        self.ceiling = max(start, ceiling or start)
        self.adaptive = self.ceiling > start
        self.floor = start * FLOOR_FRACTION
        self.rate = start
        self.step = step
        self.climb_after = climb_after
        self.decreases = 0  # halvings so far: a 429 of a request sent before the last one is old
        self.refusals = 0  # 429 answers seen
        self._clean = 0  # clean answers at pace since the last change

    def answered(self, paced: bool) -> bool:
        """A request was answered without 429; ``paced``: it went out at the current pace.

        True when the rate climbed."""
        if not self.adaptive or not paced or self.rate >= self.ceiling:
            return False
        self._clean += 1
        if self._clean < self.climb_after:
            return False
        self._clean = 0
        self.rate = min(self.ceiling, self.rate + self.step)
        return True

    def refused(self, sent_at_rate: float, decreases_before: int) -> RateChange | None:
        """A request let go at ``sent_at_rate`` (after ``decreases_before`` halvings) was
        answered 429. The change made, or None (fixed pace, or an event already answered)."""
        self.refusals += 1
        if not self.adaptive or decreases_before < self.decreases:
            return None
        self.decreases += 1
        self._clean = 0
        self.ceiling = max(self.floor, min(self.ceiling, sent_at_rate - self.step))
        self.rate = max(self.floor, min(self.ceiling, self.rate / 2))
        return RateChange(sent_at_rate, self.rate, self.ceiling)
