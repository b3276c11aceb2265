"""Quote answers: many symbols at once, quoteSummary modules."""

from __future__ import annotations

import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import load_yahoo_recording
from stock_pipeline_tests.support.fake_yahoo_http import (
    chart,
    frame,
    get,
)


def test_quote_answers_hundreds_of_symbols_at_once(fake_yahoo: FakeYahoo) -> None:
    symbols = [f"S{i:03d}" for i in range(300)] + ["ZZGONE"]
    response = get(fake_yahoo, "/v7/finance/quote", symbols=",".join(symbols))
    results = response.json()["quoteResponse"]["result"]
    assert [q["symbol"] for q in results] == symbols[:300]
    keys = set(load_yahoo_recording("quote_v7_multi_AAPL_BABA")["quoteResponse"]["result"][0])
    assert (
        {
            "regularMarketPrice",
            "regularMarketTime",
            "marketState",
            "currency",
            "exchange",
            "fullExchangeName",
            "shortName",
            "longName",
        }
        <= set(results[0])
        <= keys
    )
    first = results[0]
    assert first["marketState"] == "POST" and first["currency"] == "USD"
    daily = frame(chart(fake_yahoo, "S000", range="5d", interval="1d"))
    assert first["regularMarketPrice"] == pytest.approx(daily["close"].iloc[-1], abs=1e-3)
    assert first["regularMarketPreviousClose"] == pytest.approx(daily["close"].iloc[-2], abs=1e-3)
    assert fake_yahoo.requests_by_symbol[("quote", "S123")] == 1


def test_info_modules_for_a_known_symbol(fake_yahoo: FakeYahoo) -> None:
    modules = "financialData,quoteType,defaultKeyStatistics,assetProfile,summaryDetail"
    answer = get(fake_yahoo, "/v10/finance/quoteSummary/AAPL", modules=modules).json()
    result = answer["quoteSummary"]["result"][0]
    assert set(result) == set(modules.split(","))
    assert result["quoteType"]["longName"] == "Apple Inc." and result["assetProfile"]["sector"]
    series = get(
        fake_yahoo,
        "/ws/fundamentals-timeseries/v1/finance/timeseries/AAPL",
        symbol="AAPL",
        type="trailingPegRatio",
    ).json()
    assert series["timeseries"]["result"][0]["trailingPegRatio"][0]["reportedValue"]["raw"] > 0
