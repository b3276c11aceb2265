"""A process-wide stop request: how Ctrl-C and SIGTERM reach every wait of a sync.

The command line runs a sync's Dagster runs in a worker thread and turns SIGINT/SIGTERM
into ``request_stop``. Every place that may wait for long — the Yahoo client's back-off,
the rate limiter, the circuit breaker, the warehouse lock — waits through ``sleep`` here,
which returns early and raises ``SyncStopped`` once a stop is requested, so a sync ends
within seconds in any phase. No I/O here: the yahoo and warehouse layers both use it.
"""

from __future__ import annotations

import threading

from stock_pipeline.domain.errors import StockPipelineError


class SyncStopped(StockPipelineError):
    """The sync was asked to stop (Ctrl-C, SIGTERM); never retried."""


_event = threading.Event()
_reason: list[str] = []


def request_stop(reason: str) -> None:
    """Ask every wait in this process to end now (``reason``: e.g. "SIGTERM received")."""
    if not _reason:
        _reason.append(reason)
    _event.set()


def stop_requested() -> bool:
    return _event.is_set()


def stop_reason() -> str:
    return _reason[0] if _reason else "stop requested"


def clear() -> None:
    """Forget a stop request (a new sync in the same process, tests)."""
    _reason.clear()
    _event.clear()


def check() -> None:
    """Raise ``SyncStopped`` if a stop was requested: a checkpoint between phases."""
    if _event.is_set():
        raise SyncStopped(f"{stop_reason()}: the sync stopped before finishing")


def sleep(seconds: float) -> None:
    """``time.sleep`` that ends as soon as a stop is requested, raising ``SyncStopped``."""
    check()
    if seconds > 0 and _event.wait(seconds):
        check()
