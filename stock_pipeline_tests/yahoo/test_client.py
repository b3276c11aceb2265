"""The Yahoo client against the fake Yahoo over HTTP: yfinance's own code, typed errors."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from stock_pipeline.domain.errors import (
    LookbackExceededError,
    MalformedResponseError,
    NoDataError,
    RateLimitedError,
    SymbolNotFoundError,
    YahooServerError,
)
from stock_pipeline.domain.planning import FetchWindow
from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

DAYS = tuple(sessions_between(date(2026, 11, 18), date(2026, 11, 25)))


@pytest.fixture
def client(fake_yahoo: FakeYahoo, tmp_path: Path) -> Iterator[YahooClient]:
    delays: list[float] = []
    yield YahooClient(
        YahooSettings(
            base_url=fake_yahoo.url,
            requests_per_second=None,
            max_retries=3,
            backoff_seconds=0.5,
            cache_dir=str(tmp_path / "yf"),
        ),
        sleep=delays.append,
    )


def window(symbol: str) -> FetchWindow:
    return FetchWindow(symbol, DAYS)


def price_requests(fake: FakeYahoo) -> int:
    """Chart requests for bars, not yfinance's timezone probes (range=1d)."""
    return sum(1 for r in fake.log if r.kind == "chart" and "period1" in r.query)


def test_bars_of_several_days_in_one_request(client: YahooClient, fake_yahoo: FakeYahoo) -> None:
    with client.meter() as meter:
        frame = client.intraday_window(window("AAPL"), "5m")
    assert meter.counts["chart"] == 1
    assert sorted(set(frame["session_date"])) == list(DAYS)
    assert str(frame["ts"].dt.tz) == "UTC"
    assert not frame.duplicated(["ts"]).any()
    assert price_requests(fake_yahoo) == 1


def test_cookie_and_crumb_are_fetched_once(client: YahooClient, fake_yahoo: FakeYahoo) -> None:
    for symbol in ("AAPL", "MSFT", "IBM"):
        client.intraday_window(window(symbol), "5m")
    assert fake_yahoo.requests["cookie"] <= 1
    assert fake_yahoo.requests["crumb"] <= 1
    assert price_requests(fake_yahoo) == 3


@pytest.mark.parametrize(
    ("symbol", "error", "says"),
    [
        ("ZZUNKNOWN", SymbolNotFoundError, "unknown or delisted"),
        ("ZZEMPTY", NoDataError, "no bars"),
        ("ZZBADJSON", MalformedResponseError, "could not be parsed"),
    ],
)
def test_permanent_errors_are_typed_and_not_retried(
    client: YahooClient, symbol: str, error: type[Exception], says: str
) -> None:
    with client.meter() as meter, pytest.raises(error, match=says):
        client.intraday_window(window(symbol), "5m")
    assert meter.counts["chart"] <= 2  # at most yfinance's own second try, no retries of ours


@pytest.mark.parametrize(
    ("symbol", "error"), [("ZZRATELIMIT", RateLimitedError), ("ZZSERVERERROR", YahooServerError)]
)
def test_transient_errors_are_retried_with_backoff_then_raised(
    fake_yahoo: FakeYahoo, tmp_path: Path, symbol: str, error: type[Exception]
) -> None:
    delays: list[float] = []
    client = YahooClient(
        YahooSettings(
            base_url=fake_yahoo.url,
            requests_per_second=None,
            max_retries=3,
            backoff_seconds=0.5,
            cache_dir=str(tmp_path / "yf"),
        ),
        sleep=delays.append,
    )
    with pytest.raises(error):
        client.intraday_window(window(symbol), "5m")
    assert len(delays) == 3
    # Exponential with ±50% jitter: 0.5, 1, 2 seconds nominal.
    for attempt, delay in enumerate(delays):
        assert 0.25 * 2**attempt <= delay <= 0.75 * 2**attempt


def test_flaky_server_is_survived(client: YahooClient) -> None:
    frame = client.intraday_window(window("ZZFLAKY"), "5m")
    assert len(frame) > 300


def test_lookback_is_refused_without_a_request(client: YahooClient, fake_yahoo: FakeYahoo) -> None:
    old = FetchWindow("AAPL", (date(2026, 8, 3),))
    with pytest.raises(LookbackExceededError, match="60 days"):
        client.intraday_window(old, "5m")
    assert fake_yahoo.requests["chart"] == 0


def test_redirect_comes_from_the_environment(
    fake_yahoo: FakeYahoo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stock_pipeline.defs.resources import YahooFinanceResource

    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    client = YahooFinanceResource(requests_per_second=0).client()
    assert client.intraday_window(window("MSFT"), "5m").shape[0] > 300
    hosts = {r.host for r in fake_yahoo.log}
    assert "query2.finance.yahoo.com" in hosts  # every Yahoo host ends up at the fake


def test_history_and_quotes_and_info(client: YahooClient, fake_yahoo: FakeYahoo) -> None:
    daily = client.history("MSFT", "1d", start=date(2026, 11, 2), end=date(2026, 11, 25))
    assert list(daily["date"]) == list(sessions_between(date(2026, 11, 2), date(2026, 11, 25)))
    weekly = client.history("MSFT", "1wk", period="1y")
    assert 50 <= len(weekly) <= 54
    quotes = client.current_prices(["AAPL", "MSFT", "ZZNOPE"])
    assert set(quotes["symbol"]) == {"AAPL", "MSFT"}
    info = client.stock_info("AAPL")
    assert info["longName"] and info["sector"] and info["currency"] == "USD"
    with pytest.raises(SymbolNotFoundError):
        client.stock_info("ZZNOPE")


def test_rate_limit_setting_spaces_requests(fake_yahoo: FakeYahoo, tmp_path: Path) -> None:
    import time

    client = YahooClient(
        YahooSettings(
            base_url=fake_yahoo.url, requests_per_second=20, cache_dir=str(tmp_path / "yf")
        )
    )
    client.intraday_window(window("AAPL"), "5m")  # warm cookie, crumb, timezone
    symbols = [f"R{i}" for i in range(10)]  # distinct requests: yfinance caches repeats
    for symbol in symbols:
        client.intraday_window(window(symbol), "5m")  # timezone probes come first
    fake_yahoo.reset_counters()
    started = time.monotonic()
    for symbol in symbols:
        client.intraday_window(FetchWindow(symbol, DAYS[:2]), "5m")
    assert price_requests(fake_yahoo) == 10
    assert time.monotonic() - started >= 9 / 20


def test_timezones_of_many_symbols_come_from_one_quote_request(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    symbols = ["TZQA", "TZQB", "TZQC", "ZZUNKNOWN"]
    with client.meter() as meter:
        primed = client.prime_timezones(symbols)
    assert primed == 3  # Yahoo's quote leaves the unknown symbol out
    assert meter.counts["quote"] == 1 and meter.counts["timezone"] == 0
    with client.meter() as meter:
        for symbol in symbols[:3]:
            client.intraday_window(window(symbol), "5m")
    assert meter.counts["timezone"] == 0 and meter.counts["chart"] == 3
    with client.meter() as meter:
        assert client.prime_timezones(symbols[:3]) == 0  # all known: no request
    assert meter.total == 0


def test_a_failed_timezone_quote_falls_back_to_yfinance_s_own_look_up(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    with client.meter() as meter:
        primed = client.prime_timezones(["TZFA", "TZFB", "ZZRATELIMIT"])  # 429 for the batch
    assert primed == 0 and 1 <= meter.counts["quote"] <= 2  # yfinance's own second try
    with client.meter() as meter:
        frame = client.intraday_window(window("TZFA"), "5m")
    assert len(frame) > 300
    assert meter.counts["timezone"] == 1 and meter.counts["chart"] == 1
