"""Which step failures the RetryPolicy may retry, and what the user is told about it."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY
from stock_pipeline.defs.step_errors import is_transient, permanent_failures, retry_notice
from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import ConfigurationError, RateLimitedError, YahooServerError


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (YahooServerError("AAPL", "Yahoo server error 503"), True),
        (RateLimitedError("AAPL", "429"), True),
        (TimeoutError("timed out"), True),
        (ConfigurationError("ftp:// is not http"), False),
        (duckdb.IOException("not a valid DuckDB database file"), False),
        (KeyError("a bug"), False),
    ],
)
def test_only_transient_errors_reach_the_retry_policy(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
    with pytest.raises(Exception) as raised, permanent_failures():
        raise error
    if transient:
        assert raised.value is error  # left to the RetryPolicy
    else:
        assert isinstance(raised.value, dg.Failure) and not raised.value.allow_retries
        assert raised.value.description == f"{type(error).__name__}: {error}"


def test_a_stop_request_is_never_retried() -> None:
    stopping.request_stop("SIGTERM received")
    try:
        with pytest.raises(dg.Failure) as raised, permanent_failures():
            raise YahooServerError("AAPL", "connection reset")  # transient, but stopping
    finally:
        stopping.clear()
    assert not raised.value.allow_retries
    assert raised.value.description == (
        "SIGTERM received: stopped before storing anything of this run"
    )


def test_the_retry_notice_says_when_the_step_gives_up() -> None:
    first = retry_notice(0, FETCH_RETRY_POLICY, "YahooServerError: AAPL: down\nmore")
    assert first == (
        "attempt 1 of 4 failed (YahooServerError: AAPL: down); Dagster retries the step in "
        "about 20 s; it gives up after attempt 4, at most about 4.7 min of waiting from now "
        "(Ctrl-C stops it now)"
    )
    assert retry_notice(3, FETCH_RETRY_POLICY, "x") == "attempt 4 of 4 failed (x); giving up"
