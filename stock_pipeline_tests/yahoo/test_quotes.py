"""v7 quotes: one request tells what each instrument is; rows keep only what Yahoo said."""

from pathlib import Path

import pandas as pd

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.client import YahooClient, YahooSettings, quote_row


def test_one_quote_request_reports_type_exchange_zone_and_currency(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    client = YahooClient(
        YahooSettings(base_url=fake_yahoo.url, requests_per_second=None, cache_dir=str(tmp_path))
    )
    symbols = ["AAPL", "SPY", "^GSPC", "EURUSD=X", "BTC-USD", "CL=F", "VOD.L", "ZZNOPE"]
    with client.meter() as meter:
        found = client.instruments(symbols)
    assert meter.counts["quote"] == 1
    assert sorted(found) == sorted(symbols[:-1])  # the unknown one is absent
    seen = {s: (i.quote_type, i.exchange, i.timezone, i.currency) for s, i in found.items()}
    assert seen["AAPL"] == ("EQUITY", "NMS", "America/New_York", "USD")
    assert seen["^GSPC"] == ("INDEX", "SNP", "America/New_York", "USD")
    assert seen["EURUSD=X"] == ("CURRENCY", "CCY", "Europe/London", "USD")
    assert seen["BTC-USD"] == ("CRYPTOCURRENCY", "CCC", "UTC", "USD")
    assert seen["CL=F"] == ("FUTURE", "NYM", "America/New_York", "USD")
    assert seen["VOD.L"] == ("EQUITY", "LSE", "Europe/London", "GBp")
    assert found["EURUSD=X"].price_hint == 4


def test_a_quote_row_rounds_to_price_hint_and_leaves_an_unknown_time_null() -> None:
    row = quote_row(
        {
            "symbol": "AAPL",
            "regularMarketPrice": 225.88999938964844,
            "regularMarketPreviousClose": 224.1300048828125,
            "priceHint": 2,
            "currency": "USD",
        }
    )
    assert row is not None
    assert (row["price"], row["previous_close"]) == (225.89, 224.13)
    assert row["market_time"] is pd.NaT
    timed = quote_row({"symbol": "A", "regularMarketPrice": 1.5, "regularMarketTime": 1764106201})
    assert timed is not None and timed["market_time"] == pd.Timestamp("2025-11-25 21:30:01Z")
    assert quote_row({"symbol": "A"}) is None  # no price: no row
