"""A failure carries what it means as fields: retry-worthy, no data, or a bug."""

import pytest

from stock_pipeline.domain.errors import (
    DataValidationError,
    NoDataError,
    RateLimitedError,
    StockPipelineError,
    SymbolNotFoundError,
    YahooServerError,
)
from stock_pipeline.domain.failures import PartitionFailure, all_transient


@pytest.mark.parametrize(
    ("error", "transient", "no_data"),
    [
        (RateLimitedError("AAPL", "Yahoo answered 429"), True, False),
        (YahooServerError("AAPL", "Yahoo server error 503; retry later"), True, False),
        (SymbolNotFoundError("ZZZZ", "Yahoo does not know this symbol"), False, True),
        (NoDataError("AAPL", "2026-11-25: Yahoo sent no bars"), False, True),
        (DataValidationError("ohlc_order: 2 row(s)"), False, False),
        (KeyError("close"), False, False),
    ],
)
def test_a_failure_knows_from_its_error_whether_a_retry_or_the_quarantine_applies(
    error: Exception, transient: bool, no_data: bool
) -> None:
    failure = PartitionFailure.from_error(error)
    assert (failure.transient, failure.no_data) == (transient, no_data)
    assert failure.expected is isinstance(error, StockPipelineError)
    assert failure.text.startswith(("" if failure.expected else "unexpected ") + failure.kind)
    assert PartitionFailure.from_json(failure.to_json()) == failure


def test_a_message_that_looks_like_a_type_changes_nothing() -> None:
    """Meaning comes from the error's class, never from parsing its text back."""
    failure = PartitionFailure.from_error(ValueError("RateLimitedError: not really"))
    assert not failure.transient and not failure.expected


def test_all_transient_needs_at_least_one_failure() -> None:
    limited = PartitionFailure.from_error(RateLimitedError("A", "429"))
    outage = PartitionFailure.from_error(YahooServerError("B", "503"))
    gone = PartitionFailure.from_error(SymbolNotFoundError("C", "unknown"))
    assert not all_transient([])
    assert all_transient([limited, outage])
    assert not all_transient([limited, gone])
