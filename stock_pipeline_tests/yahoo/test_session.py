"""The rate limiter: requests go at least 1/rate apart, measured from when each really went."""

import itertools
import random
import threading
import time

from stock_pipeline.yahoo.session import RateLimiter

RATE = 50.0  # requests per second: a 20 ms gap


def release_instants(limiter: RateLimiter, threads: int, each: int) -> list[float]:
    instants: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(each):
            instant = limiter.acquire()
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
