"""Run-failure alerts against a local HTTP receiver: delivered, or logged when it is down."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.defs.run_sensors import run_failure_alert_sensor
from stock_pipeline.services.alerts import FailureAlert, send_alert
from stock_pipeline_tests.support.pipeline import Pipeline

SECRET_PATH = "/hooks/T000/SECRET-TOKEN"


@dataclass
class Receiver:
    """A webhook on 127.0.0.1: records JSON bodies; answers ``status`` after ``delay``."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.bodies.append(json.loads(self.rfile.read(length)))
            time.sleep(state.delay)
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self, level: int) -> str:
        return "\n".join(r.getMessage() for r in self.records if r.levelno == level)


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


@pytest.fixture
def failed_run(pipeline: Pipeline) -> dg.ExecuteInProcessResult:
    """A real run of the intraday job in which Yahoo does not know one symbol."""
    pipeline.register(["AAPL", "ZZDEAD"])
    result = defs.resolve_job_def("intraday_prices_job").execute_in_process(
        instance=pipeline.instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": "2026-11-24|AAPL",
            "dagster/asset_partition_range_end": "2026-11-24|ZZDEAD",
        },
    )
    assert not result.success
    return result


def sensor_context(
    result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance
) -> tuple[dg.RunFailureSensorContext, Records]:
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()
    records = Records()
    context.log.addHandler(records)
    return context, records


def test_the_sensor_posts_a_real_failed_run_s_partitions(
    failed_run: dg.ExecuteInProcessResult,
    pipeline: Pipeline,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_ALERT_WEBHOOK", receiver.url)
    context, records = sensor_context(failed_run, pipeline.instance)
    run_failure_alert_sensor(context)
    (body,) = receiver.bodies
    run_id = failed_run.run_id
    assert (body["run_id"], body["job"], body["link"]) == (
        run_id,
        "intraday_prices_job",
        f"/runs/{run_id}",
    )
    assert list(body["failed_partitions"]) == ["2026-11-24|ZZDEAD"]
    assert body["failed_partitions"]["2026-11-24|ZZDEAD"].startswith("SymbolNotFoundError")
    assert "2026-11-24|ZZDEAD" in records.text(logging.ERROR)
    assert "delivered to the webhook at 127.0.0.1" in records.text(logging.INFO)


def test_the_sensor_survives_a_webhook_that_is_down(
    failed_run: dg.ExecuteInProcessResult,
    pipeline: Pipeline,
    closed_port_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_ALERT_WEBHOOK", closed_port_url)
    context, records = sensor_context(failed_run, pipeline.instance)
    run_failure_alert_sensor(context)  # no exception
    assert failed_run.run_id in records.text(logging.ERROR)
    assert "not delivered to the webhook" in records.text(logging.WARNING)
