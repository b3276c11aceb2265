"""Typed errors raised by the domain and the Yahoo client.

Every error says what was wrong and what to do about it. ``transient`` tells the
retry layer whether trying again later can help.
"""

from __future__ import annotations


class StockPipelineError(Exception):
    """Base class of every error this project raises on purpose."""

    transient: bool = False
    no_data: bool = False  # says Yahoo has nothing for the symbol (quarantine counts it)


def damaged_warehouse(path: object, detail: str) -> str:
    """The one message for a warehouse DuckDB cannot attach or read, and what to do.

    Said the same way whether the sync's up-front check, a connection or a later query
    meets it (``WarehouseUnreadableError`` and the CLI's fault explainer both use it).
    """
    return (
        f"the warehouse {path} is damaged or not a DuckLake ({detail.rstrip('!. ')}); "
        f"point STOCK_PIPELINE_WAREHOUSE at the warehouse (a new directory starts an empty "
        f"one), or move it aside and restore a backup or re-sync into a new one "
        f"(`stock-pipeline health` checks a warehouse); nothing was changed"
    )


class InvalidSymbolError(StockPipelineError, ValueError):
    """A symbol that is not in Yahoo's alphabet or is too long."""


class OutOfScopeError(StockPipelineError, ValueError):
    """Instruments that do not trade NYSE sessions (currencies, crypto, futures, foreign)."""


class InvalidIntervalError(StockPipelineError, ValueError):
    """An interval Yahoo does not serve, or one used where it does not fit."""


class InvalidSettingError(StockPipelineError, ValueError):
    """An environment setting (STOCK_PIPELINE_NOW, STOCK_PIPELINE_DUCKDB, …) that cannot work."""


class InvalidDateRangeError(StockPipelineError, ValueError):
    """An impossible range: start after end, in the future, or no trading day in it."""


class LookbackExceededError(StockPipelineError):
    """A range beyond Yahoo's lookback for the interval; refused before any request."""


class YahooError(StockPipelineError):
    """An answer from Yahoo that is not usable data."""

    def __init__(self, symbol: str, message: str) -> None:
        super().__init__(f"{symbol}: {message}")
        self.symbol = symbol


class SymbolNotFoundError(YahooError):
    """Yahoo does not know the symbol (unknown or delisted)."""

    no_data = True


class NoDataError(YahooError):
    """Yahoo answered with no bars where the calendar expects some."""

    no_data = True


class YahooRejectedError(YahooError):
    """Yahoo refused the request itself (400/422): retrying the same request cannot help."""


class MalformedResponseError(YahooError):
    """Yahoo's answer could not be parsed (not JSON, or JSON of another shape)."""


class RateLimitedError(YahooError):
    """Yahoo answered 429 Too Many Requests."""

    transient = True


class YahooServerError(YahooError):
    """Yahoo answered 5xx, an outage page, or the connection failed."""

    transient = True


class DataValidationError(StockPipelineError):
    """Bars that fail the sanity rules (OHLC order, negative volume, duplicates)."""


class ConfigurationError(StockPipelineError):
    """A setting that cannot work (a Yahoo URL that is not http(s)): retrying cannot help."""
