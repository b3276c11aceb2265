"""The process-wide stop request that Ctrl-C and SIGTERM turn into."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from stock_pipeline.domain import stopping


@pytest.fixture(autouse=True)
def clear_stop() -> Iterator[None]:
    stopping.clear()
    yield
    stopping.clear()


def test_sleep_sleeps_when_nobody_asks_to_stop() -> None:
    started = time.monotonic()
    stopping.sleep(0.1)
    assert time.monotonic() - started >= 0.1


def test_a_stop_request_ends_a_long_sleep_in_another_thread_at_once() -> None:
    threading.Timer(0.1, stopping.request_stop, args=("SIGTERM received",)).start()
    started = time.monotonic()
    with pytest.raises(stopping.SyncStopped, match=r"^SIGTERM received: the sync stopped"):
        stopping.sleep(30)
    assert time.monotonic() - started < 1.0


def test_the_first_reason_is_kept_and_clear_forgets_it() -> None:
    stopping.request_stop("SIGINT received")
    stopping.request_stop("SIGTERM received")
    assert stopping.stop_reason() == "SIGINT received"
    with pytest.raises(stopping.SyncStopped):
        stopping.check()
    stopping.clear()
    assert not stopping.stop_requested()
    stopping.check()
