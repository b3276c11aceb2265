"""The session yfinance uses: rate limited (``test_limiter``; here its adaptive rate against
a Yahoo that refuses above a rate), metered by kind, and redirected to a mirror such as the
fake Yahoo.
"""

import socket
import time

import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.circuit import RateLimitedResponse
from stock_pipeline.yahoo.limiter import RateLimiter
from stock_pipeline.yahoo.session import YahooSession, request_kind

CRUMB_URL = "https://query1.finance.yahoo.com/v1/test/getcrumb"


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


@pytest.mark.fake_yahoo(rate_limit_per_second=10)
def test_the_rate_settles_below_a_yahoo_that_refuses_above_10_a_second(
    fake_yahoo: FakeYahoo,
) -> None:
    """Starting at 6/s with room to 16/s, the session climbs, meets the wall once or twice
    and goes on below it: few 429s, the last requests all answered, every one in the end."""
    session = YahooSession(base_url=fake_yahoo.url)
    session.limiter = RateLimiter(6.0, 16.0, step=2.0, climb_after=4)  # a fast climb
    session.circuit.base_seconds = 0.1
    statuses: list[int] = []
    while statuses.count(200) < 50:
        try:
            statuses.append(session.get(CRUMB_URL).status_code)
        except RateLimitedResponse:
            statuses.append(429)
    policy = session.limiter.policy
    assert policy is not None
    assert 1 <= statuses.count(429) == fake_yahoo.rate_limited <= 3
    assert fake_yahoo.status_counts[200] == 50
    assert 429 not in statuses[-15:]  # settled
    assert policy.decreases >= 1 and policy.ceiling < 12  # the climb now stops below the wall
    assert policy.rate <= policy.ceiling
