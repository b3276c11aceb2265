"""The session yfinance uses: rate limited (requests at least 1/rate apart, measured from when
each really went), metered by kind, and redirected to a mirror such as the fake Yahoo.
"""

import itertools
import random
import socket
import threading
import time

import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.session import RateLimiter, YahooSession, request_kind

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


# The session: request kinds, redirection to a mirror, metering ----------------------------


@pytest.mark.parametrize(
    ("url", "params", "kind"),
    [
        ("https://fc.yahoo.com", None, "cookie"),
        ("https://query1.finance.yahoo.com/v1/test/getcrumb", None, "crumb"),
        ("https://consent.yahoo.com/v2/collectConsent", None, "consent"),
        ("https://query2.finance.yahoo.com/v8/finance/chart/AAPL", {"range": "1d"}, "chart"),
        (
            "https://query2.finance.yahoo.com/v8/finance/chart/AAPL",
            {"range": "1d", "interval": "1d"},
            "timezone",
        ),
        (  # a corporate-actions refresh is no price request
            "https://query2.finance.yahoo.com/v8/finance/chart/AAPL",
            {"range": "max", "interval": "1mo", "events": "div,splits"},
            "actions",
        ),
        (
            "https://query2.finance.yahoo.com/v8/finance/chart/AAPL",
            {"range": "max", "interval": "1d", "events": "div,splits"},
            "chart",
        ),
        ("https://query2.finance.yahoo.com/v10/finance/quoteSummary/AAPL", None, "quote_summary"),
        ("https://query1.finance.yahoo.com/v7/finance/quote", None, "quote"),
        ("https://query1.finance.yahoo.com/v1/finance/search", None, "other"),
    ],
)
def test_request_kinds(url: str, params: dict[str, str] | None, kind: str) -> None:
    assert request_kind(url, params) == kind


def test_yahoo_hosts_are_sent_to_the_base_url_with_path_and_query_unchanged(
    fake_yahoo: FakeYahoo,
) -> None:
    session = YahooSession(base_url=fake_yahoo.url + "/")
    with session.meter() as meter:
        ok = session.get(
            "https://query2.finance.yahoo.com/v8/finance/chart/AAPL",
            params={"range": "5d", "interval": "5m"},
        )
        unknown = session.get("https://query1.finance.yahoo.com/v8/finance/chart/ZZNOTREAL")
    assert (ok.status_code, unknown.status_code) == (200, 404)
    first, second = fake_yahoo.log[-2:]
    assert (first.path, first.query, first.host) == (
        "/v8/finance/chart/AAPL",
        {"range": "5d", "interval": "5m"},
        "query2.finance.yahoo.com",
    )
    assert second.host == "query1.finance.yahoo.com"
    assert meter.counts == {"chart": 2} and meter.price_requests == 2
    assert meter.statuses == [("chart", 200), ("chart", 404)]
    assert session.totals["chart"] == 2


def test_without_a_base_url_nothing_is_redirected(fake_yahoo: FakeYahoo) -> None:
    session = YahooSession()
    assert session._target("https://query1.finance.yahoo.com/v7/finance/quote?symbols=A") == (
        "https://query1.finance.yahoo.com/v7/finance/quote?symbols=A",
        {},
    )
    mirrored = YahooSession(base_url=fake_yahoo.url)
    assert mirrored._target("https://example.com/x") == ("https://example.com/x", {})


def test_a_connection_failure_is_recorded_as_status_0() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = YahooSession(base_url=f"http://127.0.0.1:{port}")
    with session.meter() as meter, pytest.raises(Exception):  # noqa: B017 (curl's own type)
        session.get("https://query1.finance.yahoo.com/v7/finance/quote", timeout=5)
    assert meter.statuses == [("quote", 0)]


def test_the_session_waits_for_its_rate_limit(fake_yahoo: FakeYahoo) -> None:
    session = YahooSession(base_url=fake_yahoo.url, requests_per_second=20)
    started = time.monotonic()
    for _ in range(5):
        session.get("https://query1.finance.yahoo.com/v7/finance/quote", params={"symbols": "A"})
    assert time.monotonic() - started >= 4 * 0.05 * 0.95  # four gaps of 50 ms
    limiter = session.limiter
    session.set_rate(20)
    assert session.limiter is limiter  # unchanged rate: the last request's time is kept
    session.set_rate(None)
    assert session.limiter is not limiter and session.limiter.requests_per_second is None
