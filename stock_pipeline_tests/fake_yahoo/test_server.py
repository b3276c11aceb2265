"""The HTTP server: ``serve`` in the foreground, and yfinance's own code against the fake.

yfinance's ``Ticker.history`` / ``.info`` run through the project's URL-rewriting session,
without patching yfinance.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from stock_pipeline.domain.trading_calendar import (
    expected_bar_starts,
    sessions_between,
)
from stock_pipeline.fake_yahoo import FakeYahoo, serve
from stock_pipeline_tests.support.fake_yahoo_http import (
    BLACK_FRIDAY_EVENING,
    chart,
    frame,
    ny,
)


def test_serve_runs_in_the_foreground_until_stopped() -> None:
    banners: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        kwargs={
            "port": 0,
            "announce": banners.append,
            "stop_event": stop,
            "now": "2026-11-25T21:30:00Z",
            "unknown_symbols": "GONE,DEAD",
        },
        daemon=True,
    )
    thread.start()
    for _ in range(100):
        if banners:
            break
        time.sleep(0.02)
    url = re.search(r"http://[\d.]+:\d+", banners[0])
    assert url is not None
    assert requests.get(url.group(0) + "/v8/finance/chart/GONE", timeout=10).status_code == 404
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


yf = pytest.importorskip("yfinance")


yahoo_session = pytest.importorskip("stock_pipeline.yahoo.session")


@pytest.fixture
def yfinance_on_fake(fake_yahoo: FakeYahoo, tmp_path: Path) -> Iterator[Any]:
    """A session that redirects Yahoo's hosts to the fake, with yfinance's caches cleared.

    ``set_tz_cache_location`` only moves the caches before their first use in a process.
    """
    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()  # its response cache is process-wide
    hide = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = True  # yfinance's default; other code may change it
    yield yahoo_session.YahooSession(base_url=fake_yahoo.url)
    yf.config.debug.hide_exceptions = hide


def test_yfinance_history_intraday(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    fake_yahoo.set_now(BLACK_FRIDAY_EVENING)
    ticker = yf.Ticker("YFPROBE", session=yfinance_on_fake)
    df = ticker.history(start="2026-11-23", end="2026-11-28", interval="5m", auto_adjust=False)
    assert str(df.index.tz) == "America/New_York"
    expected = [
        ts
        for d in (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27))
        for ts in expected_bar_starts(d, "5m")
    ]
    raw = frame(
        chart(
            fake_yahoo,
            "YFPROBE",
            period1=ny(date(2026, 11, 23)),
            period2=ny(date(2026, 11, 28)),
            interval="5m",
        )
    )
    nulls = raw[raw["close"].isna()].index
    # yfinance drops Yahoo's 13:00 early-close bar and the all-null bars.
    assert list(df.index.tz_convert("UTC")) == [ts for ts in expected if ts not in nulls]
    assert df["Close"].tolist() == raw.loc[df.index.tz_convert("UTC"), "close"].tolist()
    # yfinance asked for the timezone probe (a symbol it has not seen in this process; its
    # tz cache stays where it was first opened), then the data; the third is this test's.
    charts = [r for r in fake_yahoo.log if r.kind == "chart"]
    assert len(charts) == 3
    assert charts[0].query["range"] == "1d" and charts[1].query["interval"] == "5m"


def test_yfinance_history_daily_with_split_and_dividends(
    fake_yahoo: FakeYahoo, yfinance_on_fake: Any
) -> None:
    split = yf.Ticker("SPLT", session=yfinance_on_fake).history(
        start="2026-06-01", end="2026-07-01"
    )
    assert split.loc["2026-06-15", "Stock Splits"] == 4.0
    assert (split["Stock Splits"] != 0).sum() == 1
    msft = yf.Ticker("MSFT", session=yfinance_on_fake).history(start="2025-11-01", end="2026-11-01")
    assert (msft["Dividends"] > 0).sum() == 4
    assert len(msft) == len(sessions_between(date(2025, 11, 1), date(2026, 10, 31)))


def test_yfinance_info(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    info = yf.Ticker("AAPL", session=yfinance_on_fake).info
    assert info["longName"] == "Apple Inc." and info["shortName"] == "Apple Inc."
    assert info["exchange"] == "NMS" and info["currency"] == "USD" and info["quoteType"] == "EQUITY"
    assert info["sector"] == "Technology" and info["industry"] == "Consumer Electronics"
    kinds = {r.kind for r in fake_yahoo.log}
    assert {"quote_summary", "quote", "timeseries"} <= kinds


def test_yfinance_surfaces_each_error(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    from yfinance.exceptions import YFPricesMissingError

    from stock_pipeline.yahoo.circuit import HostCircuit, RateLimitedResponse

    yf.config.debug.hide_exceptions = False
    window = {"start": "2026-11-16", "end": "2026-11-21", "interval": "5m"}

    def history(symbol: str, **kwargs: Any) -> pd.DataFrame:
        return yf.Ticker(symbol, session=yfinance_on_fake).history(**{**window, **kwargs})

    with pytest.raises(YFPricesMissingError):
        history("ZZEMPTY")
    # The project's session ends a call at Yahoo's first 429 (yfinance would fetch a new
    # cookie and crumb and ask again), so the 429 surfaces as its RateLimitedResponse, not
    # yfinance's YFRateLimitError; yahoo/errors.py classifies both as rate limiting.
    with pytest.raises(RateLimitedResponse, match="429 Too Many Requests"):
        history("ZZRATELIMIT")
    asked = [r.status for r in fake_yahoo.log if "ZZRATELIMIT" in r.symbols]
    assert asked == [429]  # one request (the timezone probe), not sent again
    yfinance_on_fake.circuit = HostCircuit()  # skip the cool-down (tested in the circuit's tests)
    with pytest.raises(json.JSONDecodeError):
        history("ZZBADJSON")
    with pytest.raises(YFPricesMissingError) as refused:
        history("AAPL", start="2026-08-03", end="2026-08-05")
    assert "within the last 60 days" in str(refused.value.yahoo_reason)
    yf.config.debug.hide_exceptions = True
    assert history("ZZEMPTY").empty
    assert 5 * 78 - 5 <= len(history("MSFT")) <= 5 * 78  # all-null bars dropped


@pytest.mark.fake_yahoo(flaky_failures=2)
def test_yfinance_replays_a_failed_past_window_from_its_response_cache(
    fake_yahoo: FakeYahoo, yfinance_on_fake: Any
) -> None:
    """yfinance caches answers for windows ending 30+ minutes before the real clock, errors
    included: retrying ZZFLAKY reaches the fake again only once that cache is cleared."""
    from yfinance.data import YfData

    ticker = yf.Ticker("ZZFLAKY", session=yfinance_on_fake)
    for _ in range(2):
        assert ticker.history(start="2026-11-16", end="2026-11-21", interval="5m").empty
    data = [r.status for r in fake_yahoo.log if r.kind == "chart" and "period1" in r.query]
    assert data == [500, 500]  # one call plus yfinance's own retry; the second was cached
    YfData.cache_get.cache_clear()
    df = ticker.history(start="2026-11-16", end="2026-11-21", interval="5m")
    assert 5 * 78 - 5 <= len(df) <= 5 * 78
