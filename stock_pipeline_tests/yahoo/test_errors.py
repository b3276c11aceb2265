"""What yfinance raises, told apart by the HTTP statuses the session saw during the call."""

import json

import pytest
from yfinance import exceptions as yfexc

from stock_pipeline.domain.errors import (
    InvalidSymbolError,
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
from stock_pipeline.yahoo.errors import classify

PRICES_MISSING = yfexc.YFPricesMissingError("AAPL", "(1d 2026-11-24 -> 2026-11-25)")


@pytest.mark.parametrize(
    ("exc", "statuses", "expected", "says"),
    [
        (yfexc.YFRateLimitError(), [], RateLimitedError, "429 Too Many Requests"),
        (PRICES_MISSING, [("timezone", 200), ("chart", 429)], RateLimitedError, "--delay"),
        (PRICES_MISSING, [("chart", 503)], YahooServerError, "server error 503"),
        (yfexc.YFException("x"), [("chart", 0)], YahooServerError, "could not reach Yahoo"),
        (PRICES_MISSING, [("chart", 404)], SymbolNotFoundError, "symbols remove"),
        (yfexc.YFTzMissingError("AAPL"), [], SymbolNotFoundError, "unknown or delisted"),
        (
            yfexc.YFPricesMissingError(
                "AAPL", "", yahoo_reason="1m data not available. Must be within the last 30 days."
            ),
            [("chart", 422)],
            LookbackExceededError,
            "within the last 30 days",
        ),
        (yfexc.YFException("Invalid input"), [("chart", 400)], YahooRejectedError, "refused"),
        (json.JSONDecodeError("bad", "<html>", 0), [("chart", 200)], MalformedResponseError, ""),
        (KeyError("chart"), [("chart", 200)], MalformedResponseError, "could not be parsed"),
        (PRICES_MISSING, [("chart", 200)], NoDataError, "no bars"),
        (yfexc.YFException("odd"), [("chart", 200)], YahooError, "odd"),
        (OSError("reset by peer"), [], YahooServerError, "OSError: reset by peer"),
    ],
)
def test_each_failure_becomes_its_typed_error(
    exc: BaseException,
    statuses: list[tuple[str, int]],
    expected: type[StockPipelineError],
    says: str,
) -> None:
    error = classify("AAPL", exc, statuses)
    assert type(error) is expected
    assert says in str(error)


def test_statuses_of_cookie_and_crumb_requests_do_not_count_as_data_answers() -> None:
    error = classify("AAPL", PRICES_MISSING, [("cookie", 404), ("crumb", 500), ("chart", 200)])
    assert isinstance(error, NoDataError)


def test_the_project_s_own_errors_pass_through() -> None:
    own = InvalidSymbolError("bad symbol")
    assert classify("AAPL", own, [("chart", 500)]) is own
