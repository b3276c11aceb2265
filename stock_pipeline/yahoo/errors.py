"""Turning what yfinance raises into this project's typed errors.

yfinance reports most failures as one of a few exceptions whatever the cause; the HTTP
statuses the session saw during the call tell them apart (404 unknown symbol, 429 rate
limit, 5xx outage, 400/422 a refused request).
"""

from __future__ import annotations

import json

from yfinance import exceptions as yfexc

from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import (
    LookbackExceededError,
    MalformedResponseError,
    NoDataError,
    RateLimitedError,
    StockPipelineError,
    SymbolNotFoundError,
    YahooError,
    YahooRejectedError,
    YahooServerError,
)
from stock_pipeline.yahoo.circuit import RateLimitedResponse

_DATA_KINDS = ("chart", "actions", "timezone", "quote", "quote_summary")


def classify(
    symbol: str, exc: BaseException, statuses: list[tuple[str, int]]
) -> StockPipelineError:
    """The typed error for ``exc``, raised by yfinance after the answers in ``statuses``."""
    if isinstance(exc, StockPipelineError):
        return exc
    if stopping.stop_requested():  # yfinance may have wrapped the stop in its own error
        return stopping.SyncStopped(f"{stopping.stop_reason()}: {symbol} was not fetched")
    data_statuses = [status for kind, status in statuses if kind in _DATA_KINDS]
    reason = getattr(exc, "yahoo_reason", None) or str(exc)
    if isinstance(exc, yfexc.YFRateLimitError | RateLimitedResponse) or 429 in data_statuses:
        return RateLimitedError(
            symbol,
            "Yahoo answered 429 Too Many Requests; lower requests_per_second and "
            "max_requests_per_second (or pin a pace with --delay) or wait a few minutes",
        )
    if any(status >= 500 for status in data_statuses) or "CURRENTLY DOWN" in str(exc):
        return YahooServerError(
            symbol, f"Yahoo server error {max(data_statuses, default=0)}; retry later"
        )
    if any(status == 0 for _, status in statuses):
        return YahooServerError(symbol, f"could not reach Yahoo ({type(exc).__name__}: {exc})")
    if 404 in data_statuses or isinstance(exc, yfexc.YFTzMissingError):
        return SymbolNotFoundError(
            symbol,
            "Yahoo does not know this symbol (unknown or delisted); check the ticker "
            "on finance.yahoo.com, or remove it with `stock-pipeline symbols remove`",
        )
    if 422 in data_statuses and "within the last" in reason:
        return LookbackExceededError(f"{symbol}: Yahoo refused the range: {reason}")
    if 400 in data_statuses or 422 in data_statuses:
        return YahooRejectedError(symbol, f"Yahoo refused the request: {reason}")
    if isinstance(exc, json.JSONDecodeError | ValueError | KeyError | TypeError | IndexError):
        return MalformedResponseError(
            symbol, f"Yahoo's answer could not be parsed ({type(exc).__name__}: {exc})"
        )
    if isinstance(exc, yfexc.YFPricesMissingError):
        return NoDataError(
            symbol,
            f"Yahoo sent no bars ({reason}); if the symbol still trades, try again "
            "later, otherwise remove it with `stock-pipeline symbols remove`",
        )
    if isinstance(exc, yfexc.YFException):
        return YahooError(symbol, str(exc))
    return YahooServerError(symbol, f"{type(exc).__name__}: {exc}")
