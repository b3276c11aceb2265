"""Run-failure alerts against a local HTTP receiver: delivered, or logged when it is down."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from stock_pipeline.services.alerts import FailureAlert, send_alert
from stock_pipeline_tests.support.webhook import Receiver, Records


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, Records]]:
    logger = logging.getLogger("stock_pipeline_tests.alerts")
    records = Records()
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, records
    finally:
        logger.removeHandler(records)


ALERT = FailureAlert(
    run_id="0123456789abcdef",
    job="intraday_prices_job",
    status="FAILURE",
    failure="1 of 2 partition(s) failed; the other 1 were stored (78 rows).",
    failed_partitions={"2026-11-24|ZZDEAD": "SymbolNotFoundError: ZZDEAD: unknown"},
)


def test_the_alert_reaches_the_webhook_as_json(
    receiver: Receiver, log: tuple[logging.Logger, Records]
) -> None:
    logger, records = log
    assert send_alert(ALERT, receiver.url, timeout=5, log=logger)
    (body,) = receiver.bodies
    assert body["run_id"] == "0123456789abcdef" and body["job"] == "intraday_prices_job"
    assert body["failed_partitions"] == {
        "2026-11-24|ZZDEAD": "SymbolNotFoundError: ZZDEAD: unknown"
    }
    assert body["link"] == "/runs/0123456789abcdef"
    assert (
        body["text"].splitlines()[0]
        == "stock_pipeline: run 01234567 of intraday_prices_job failure"
    )
    assert "2026-11-24|ZZDEAD: SymbolNotFoundError" in records.text(logging.ERROR)


def test_without_a_webhook_the_alert_is_only_logged(log: tuple[logging.Logger, Records]) -> None:
    logger, records = log
    assert not send_alert(ALERT, None, timeout=5, log=logger)
    assert "/runs/0123456789abcdef" in records.text(logging.ERROR)


@pytest.mark.parametrize("problem", ["refused", "http 500", "too slow"])
def test_a_broken_webhook_is_logged_never_raised(
    receiver: Receiver, closed_port_url: str, log: tuple[logging.Logger, Records], problem: str
) -> None:
    logger, records = log
    url = closed_port_url if problem == "refused" else receiver.url
    receiver.status = 500 if problem == "http 500" else 200
    receiver.delay = 2.0 if problem == "too slow" else 0.0
    started = time.monotonic()
    assert not send_alert(ALERT, url, timeout=0.5, log=logger)
    assert time.monotonic() - started < 2.0  # the timeout holds
    warning = records.text(logging.WARNING)
    assert "not delivered to the webhook at 127.0.0.1" in warning
    assert "SECRET-TOKEN" not in warning  # the URL's token never reaches the logs
    assert ("HTTP 500" in warning) == (problem == "http 500")
    assert "0123456789abcdef" in records.text(logging.ERROR)  # the alert itself was logged
