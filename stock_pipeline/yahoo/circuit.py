"""One circuit breaker for Yahoo's host, shared by every thread of the process.

Yahoo's 429 is about the client as a whole, not one symbol: when it answers 429, every
thread that keeps asking makes the window longer. So the first 429 opens the circuit for
a cool-down (doubling with each 429 in a row, capped); while it is open every request of
the process waits (``wait_turn``, ended at once by a stop request), and once it ends a
single probe request goes first: its answer closes the circuit (any answer but 429) or
opens it again. ``strikes`` (429s in a row, host-wide) lets the client give up early.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

RATE_LIMITED = 429
PROBE_POLL_SECONDS = 0.05


class RateLimitedResponse(Exception):
    """Yahoo answered 429: raised by the session instead of handing yfinance the answer.

    yfinance answers any status >= 400 by switching its cookie strategy, fetching a new
    cookie and crumb and sending the request again: three more requests to a host that is
    refusing. Raising here ends the call at the first 429 instead.
    """

    def __init__(self, kind: str) -> None:
        super().__init__(f"Yahoo answered 429 Too Many Requests to a {kind} request")
        self.kind = kind


class HostCircuit:
    """Closed, open (cooling down) or half-open (one probe in flight)."""

    def __init__(
        self,
        base_seconds: float = 2.0,
        max_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._strikes = 0  # 429 answers in a row
        self._open_until = 0.0
        self._probing = False
        self.openings = 0  # times a 429 opened or extended the cool-down

    @property
    def strikes(self) -> int:
        return self._strikes

    def remaining(self) -> float:
        """Seconds until a request may go (0 when closed)."""
        with self._lock:
            return max(0.0, self._open_until - self._clock())

    def wait_turn(self, sleep: Callable[[float], None]) -> None:
        """Wait while the circuit is open, or while another thread's probe is out."""
        while True:
            with self._lock:
                if not self._strikes:
                    return
                left = self._open_until - self._clock()
                if left <= 0 and not self._probing:
                    self._probing = True  # this request is the probe
                    return
            sleep(left if left > 0 else PROBE_POLL_SECONDS)

    def record(self, status: int | None) -> None:
        """The answer to a request that was let go (0: none, the connection failed; None:
        the request was not sent after all)."""
        with self._lock:
            self._probing = False
            if status == RATE_LIMITED:
                self._strikes += 1
                self.openings += 1
                cool = min(self.max_seconds, self.base_seconds * 2 ** (self._strikes - 1))
                until = self._clock() + cool * random.uniform(1.0, 1.25)
                self._open_until = max(self._open_until, until)
            elif status is not None and 0 < status < 400:
                self._strikes = 0
                self._open_until = 0.0
