"""A fake Yahoo Finance HTTP server realistic enough for yfinance's own code to run against.

It serves deterministic synthetic prices for any symbol on the NYSE calendar (see
``market``), with Yahoo's answer shapes, errors and quirks (see ``chart`` and ``app``).

    with FakeYahoo(FakeYahooConfig(now=DEFAULT_TEST_NOW)) as fake:
        ...  # point a URL-rewriting session at fake.url; read fake.requests, fake.log

Special symbols: ZZRATELIMIT (429), ZZSERVERERROR (500), ZZBADJSON (truncated JSON),
ZZEMPTY (empty chart results), ZZFLAKY (500 for its first chart data requests), any other
ZZ... symbol is unknown (404). SPLT has a 4:1 split on 2026-06-15.
"""

from stock_pipeline.fake_yahoo.config import (
    BAD_JSON_SYMBOL,
    DEFAULT_TEST_NOW,
    EMPTY_SYMBOL,
    FLAKY_SYMBOL,
    RATE_LIMITED_SYMBOL,
    SERVER_ERROR_SYMBOL,
    SPECIAL_SYMBOLS,
    FakeYahooConfig,
    RequestRecord,
    SplitEvent,
)
from stock_pipeline.fake_yahoo.server import FakeYahoo, serve

__all__ = [
    "BAD_JSON_SYMBOL",
    "DEFAULT_TEST_NOW",
    "EMPTY_SYMBOL",
    "FLAKY_SYMBOL",
    "RATE_LIMITED_SYMBOL",
    "SERVER_ERROR_SYMBOL",
    "SPECIAL_SYMBOLS",
    "FakeYahoo",
    "FakeYahooConfig",
    "RequestRecord",
    "SplitEvent",
    "serve",
]
