"""Live progress of a sync: what a run has done so far, summed over runs, and its ETA.

A run's fetch loop counts partitions, rows and Yahoo requests in a ``ProgressTracker``,
which hands a ``RunProgress`` snapshot to a publisher at most every ``every`` seconds
(a file beside the data, written by ``services.run_progress``): no Dagster event per
partition, whatever the run's size. Readers sum the snapshots of a sync's runs into a
``SyncProgress``. Pure: no I/O, clocks injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from stock_pipeline.domain.partition_keys import symbol_of

Phase = Literal["queued", "fetching", "storing"]
PUBLISH_EVERY_SECONDS = 0.5


def symbol_of_key(key: str) -> str:
    """The symbol a partition is counted under (the key itself when it names none)."""
    return symbol_of(key) or key


@dataclass(frozen=True)
class RunProgress:
    """One run's figures so far, as its fetch loop last published them."""

    run_id: str
    asset: str = ""
    interval: str = ""
    phase: Phase = "queued"
    started_at: float | None = None  # epoch seconds the fetch began; None while queued
    updated_at: float = 0.0  # epoch seconds of this snapshot
    symbols_total: int = 0
    symbols_done: int = 0
    partitions_total: int = 0
    partitions_done: int = 0  # stored-ready or failed
    failed: int = 0
    rows: int = 0
    requests: int = 0  # every Yahoo request so far (cookie, crumb, quote, chart, retries)
    price_requests_planned: int = 0  # chart windows the run will ask for
    price_requests_done: int = 0
    # The Yahoo rate limit the run obeys: configured while queued, then the rate the
    # process paces at as the run goes (it climbs while Yahoo answers, halves on a 429).
    requests_per_second: float | None = None
    last_failure: str | None = None
    channel_seconds: float = 0.0  # time the run spent keeping this channel (its cost)

    @property
    def stored(self) -> int:
        return self.partitions_done - self.failed

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunProgress:
        """Fields this version knows, taken from ``data`` (unknown ones are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def eta_seconds(
    done: int,
    total: int,
    elapsed: float,
    requests_left: int,
    requests_per_second: float | None,
) -> float | None:
    """Seconds still needed: the observed pace, but never less than the rate limit allows.

    ``requests_left`` Yahoo requests at ``requests_per_second`` take at least
    ``requests_left / requests_per_second`` seconds however fast the work so far went
    (the first windows may have been served from cache or before the limiter filled).
    Before anything is done only that floor is known; None when nothing is known at all.
    """
    remaining = max(0, total - done)
    if remaining == 0:
        return 0.0
    floor = requests_left / requests_per_second if requests_per_second else 0.0
    if done <= 0 or elapsed <= 0:
        return floor if floor > 0 else None
    return max(remaining * elapsed / done, floor)


@dataclass(frozen=True)
class SyncProgress:
    """A sync's figures so far, summed over its runs (``handle.progress()``, the CLI)."""

    runs_total: int
    runs_finished: int
    symbols_total: int
    symbols_done: int
    partitions_total: int
    partitions_done: int
    stored: int
    failed: int
    rows: int
    requests: int
    elapsed: float  # seconds since the first run began fetching
    requests_per_second: float | None  # the rate limit (the lowest of the runs')
    eta_seconds: float | None  # None: not known yet
    finished: bool
    last_failure: str | None = None
    runs: tuple[RunProgress, ...] = field(default=(), repr=False)

    @property
    def rate(self) -> float | None:
        """Partitions per second so far."""
        return self.partitions_done / self.elapsed if self.elapsed > 0 else None


def combine(
    runs: Sequence[RunProgress],
    now: float,
    finished_runs: int = 0,
    runs_total: int | None = None,
    finished: bool = False,
) -> SyncProgress:
    """Sum run snapshots; the ETA from the sum (the runs of a sync go one after another)."""
    started = [r.started_at for r in runs if r.started_at is not None]
    elapsed = max(0.0, now - min(started)) if started else 0.0
    limits = [r.requests_per_second for r in runs if r.requests_per_second]
    rps = min(limits) if limits else None
    done = sum(r.partitions_done for r in runs)
    total = sum(r.partitions_total for r in runs)
    left = sum(max(0, r.price_requests_planned - r.price_requests_done) for r in runs)
    failures = [r for r in runs if r.last_failure]
    return SyncProgress(
        runs_total=len(runs) if runs_total is None else runs_total,
        runs_finished=finished_runs,
        symbols_total=sum(r.symbols_total for r in runs),
        symbols_done=sum(r.symbols_done for r in runs),
        partitions_total=total,
        partitions_done=done,
        stored=sum(r.stored for r in runs),
        failed=sum(r.failed for r in runs),
        rows=sum(r.rows for r in runs),
        requests=sum(r.requests for r in runs),
        elapsed=elapsed,
        requests_per_second=rps,
        eta_seconds=0.0 if finished else eta_seconds(done, total, elapsed, left, rps),
        finished=finished,
        last_failure=failures[-1].last_failure if failures else None,
        runs=tuple(runs),
    )


class ProgressTracker:
    """Counts a run's fetch loop and publishes a snapshot at most every ``every`` seconds.

    Thread-safe. Keys outside the run's own (partitions a backfill run fetches for its
    later runs) count their requests, not as partitions done.
    """

    def __init__(
        self,
        run_id: str,
        keys: Iterable[str],
        publish: Callable[[RunProgress], None],
        *,
        asset: str = "",
        interval: str = "",
        requests_per_second: float | None = None,
        rate: Callable[[], float | None] | None = None,
        every: float = PUBLISH_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._publish = publish
        self._rate = rate  # the rate now, read at each publication
        self._every = every
        self._clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._keys = frozenset(keys)
        self._done: set[str] = set()
        self._left: dict[str, int] = {}
        for key in self._keys:
            symbol = symbol_of_key(key)
            self._left[symbol] = self._left.get(symbol, 0) + 1
        self._next = 0.0
        self._spent = 0.0
        self.state = RunProgress(
            run_id=run_id,
            asset=asset,
            interval=interval,
            phase="fetching",
            started_at=wall_clock(),
            symbols_total=len(self._left),
            partitions_total=sum(self._left.values()),
            requests_per_second=requests_per_second,
        )

    def start(self) -> None:
        """Publish the run's totals at once, so readers see it began."""
        with self._lock:
            self._flush()

    def plan(self, price_requests: int) -> None:
        """The chart requests (windows) the fetch loop is about to make."""
        with self._lock:
            self.state = replace(
                self.state,
                price_requests_planned=self.state.price_requests_planned + price_requests,
            )
            self._flush()

    def requests(self, count: int) -> None:
        """Yahoo requests that served no partition of their own (cookie, crumb, quote)."""
        if count:
            with self._lock:
                self.state = replace(self.state, requests=self.state.requests + count)
                self._maybe_flush()

    def window(
        self,
        rows: Mapping[str, int],
        failures: Mapping[str, str],
        requests: int,
        windows: int = 1,
    ) -> None:
        """A Yahoo window answered (``windows=0``: partitions read back from the warehouse):
        rows per good partition, the reason per failed one, the requests it took."""
        began = self._clock()
        with self._lock:
            done = added = failed = new_rows = 0
            for key in [*rows, *failures]:
                if key not in self._keys or key in self._done:
                    continue
                self._done.add(key)
                done += 1
                failed += key in failures
                new_rows += rows.get(key, 0)
                symbol = symbol_of_key(key)
                self._left[symbol] -= 1
                if self._left[symbol] == 0:
                    added += 1
            last = next(iter(failures.items()), None)
            s = self.state
            self.state = replace(
                s,
                partitions_done=s.partitions_done + done,
                symbols_done=s.symbols_done + added,
                failed=s.failed + failed,
                rows=s.rows + new_rows,
                requests=s.requests + requests,
                price_requests_done=s.price_requests_done + windows,
                last_failure=f"{last[0]}: {last[1]}" if last else s.last_failure,
            )
            self._spent += self._clock() - began
            self._maybe_flush()

    def finish_fetch(self) -> None:
        """The fetch loop is over; the run now stores what it fetched."""
        with self._lock:
            self.state = replace(self.state, phase="storing")
            self._flush()

    @property
    def channel_seconds(self) -> float:
        return self._spent

    def _maybe_flush(self) -> None:
        if self._clock() >= self._next:
            self._flush()

    def _flush(self) -> None:
        began = self._clock()
        self.state = replace(self.state, updated_at=self._wall(), channel_seconds=self._spent)
        if self._rate is not None:
            self.state = replace(self.state, requests_per_second=self._rate())
        self._publish(self.state)
        now = self._clock()
        self._spent += now - began
        self._next = now + self._every
