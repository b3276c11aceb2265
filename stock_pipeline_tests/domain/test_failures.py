import pytest

from stock_pipeline.domain.failures import all_transient, is_transient_reason


@pytest.mark.parametrize(
    ("reason", "transient"),
    [
        ("RateLimitedError: AAPL: Yahoo answered 429", True),
        ("YahooServerError: AAPL: Yahoo server error 503; retry later", True),
        ("SymbolNotFoundError: ZZZZ: Yahoo does not know this symbol", False),
        ("NoDataError: AAPL 2026-11-25: Yahoo sent no bars", False),
        ("DataValidationError: ohlc_order: 2 row(s)", False),
        ("unexpected KeyError: 'close'", False),
        ("RateLimitedError without a colon", False),
    ],
)
def test_only_the_project_s_transient_errors_are_worth_a_retry(
    reason: str, transient: bool
) -> None:
    assert is_transient_reason(reason) is transient


def test_all_transient_needs_at_least_one_reason() -> None:
    assert not all_transient([])
    assert all_transient(["RateLimitedError: a", "YahooServerError: b"])
    assert not all_transient(["RateLimitedError: a", "SymbolNotFoundError: b"])
