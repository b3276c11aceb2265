"""Typed errors: which ones a retry can help (transient) and which say Yahoo has no data."""

import pytest

from stock_pipeline.domain.errors import (
    DataValidationError,
    InvalidDateRangeError,
    InvalidIntervalError,
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


@pytest.mark.parametrize(
    ("error", "transient", "no_data"),
    [
        (RateLimitedError("AAPL", "429"), True, False),
        (YahooServerError("AAPL", "502"), True, False),
        (SymbolNotFoundError("ZZDEAD", "unknown"), False, True),
        (NoDataError("ZZEMPTY", "no bars"), False, True),
        (YahooRejectedError("AAPL", "400"), False, False),
        (MalformedResponseError("AAPL", "not JSON"), False, False),
        (YahooError("AAPL", "other"), False, False),
        (LookbackExceededError("AAPL: too far back"), False, False),
        (DataValidationError("high < low"), False, False),
        (InvalidSymbolError("bad"), False, False),
    ],
)
def test_transient_and_no_data_flags(
    error: StockPipelineError, transient: bool, no_data: bool
) -> None:
    assert (error.transient, error.no_data) == (transient, no_data)
    assert isinstance(error, StockPipelineError)


def test_yahoo_errors_name_their_symbol() -> None:
    error = NoDataError("MSFT 2026-11-24", "Yahoo sent no bars")
    assert error.symbol == "MSFT 2026-11-24"
    assert str(error) == "MSFT 2026-11-24: Yahoo sent no bars"


@pytest.mark.parametrize("cls", [InvalidSymbolError, InvalidIntervalError, InvalidDateRangeError])
def test_bad_input_is_also_a_value_error(cls: type[StockPipelineError]) -> None:
    with pytest.raises(ValueError, match="what to do"):
        raise cls("what was wrong; what to do")
