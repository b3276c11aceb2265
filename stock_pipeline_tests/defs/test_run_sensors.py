"""Run-status sensors on real failed runs: the failure alert and the dead-symbol quarantine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.definitions import defs
from stock_pipeline.defs.run_sensors import dead_symbols_sensor, run_failure_alert_sensor
from stock_pipeline.defs.schedules import intraday_hourly_schedule
from stock_pipeline.services.quarantine import (
    load_health,
    quarantined_symbols,
)
from stock_pipeline_tests.support.pipeline import Pipeline
from stock_pipeline_tests.support.webhook import Receiver, Records

if TYPE_CHECKING:
    from dagster._core.definitions.sensor_definition import SensorExecutionData


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


@pytest.fixture
def sync(pipeline: Pipeline) -> Callable[[str, str], dg.ExecuteInProcessResult]:
    """An intraday sync of a partition range through the real job, as a schedule runs it."""
    job = defs.resolve_job_def("intraday_prices_job")

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        return job.execute_in_process(
            instance=pipeline.instance,
            raise_on_error=False,
            tags={
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            },
        )

    return run


def scan(instance: dg.DagsterInstance, cursor: str | None) -> SensorExecutionData:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return dead_symbols_sensor.evaluate_tick(context)


def test_three_runs_without_data_quarantine_until_a_person_enables(
    pipeline: Pipeline,
    sync: Callable[[str, str], dg.ExecuteInProcessResult],
) -> None:
    pipeline.register(["AAPL", "ZZDEAD", "ZZEMPTY", "MSFT"])
    assert not sync("2026-11-24|AAPL", "2026-11-24|MSFT").success
    assert not sync("2026-11-25|AAPL", "2026-11-25|MSFT").success
    first = scan(pipeline.instance, None)
    assert "read 2 finished run(s)" in (first.skip_message or "")
    assert quarantined_symbols(pipeline.instance) == {}
    assert {s: h.failures for s, h in load_health(pipeline.instance).items()} == {
        "ZZDEAD": 2,
        "ZZEMPTY": 2,
    }

    assert not sync("2026-11-23|AAPL", "2026-11-23|MSFT").success
    second = scan(pipeline.instance, first.cursor)
    assert "quarantined ZZDEAD, ZZEMPTY" in (second.skip_message or "")
    found = quarantined_symbols(pipeline.instance)
    assert found["ZZDEAD"].last_reason.startswith("SymbolNotFoundError")
    assert found["ZZEMPTY"].last_reason.startswith("NoDataError")
    assert scan(pipeline.instance, second.cursor).skip_message == "read 0 finished run(s)"

    # Left out of the next hourly tick: the range splits around the two dead symbols.
    tick = intraday_hourly_schedule.evaluate_tick(
        dg.build_schedule_context(
            instance=pipeline.instance,
            scheduled_execution_time=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
        )
    )
    assert [r.tags.get("dagster/partition") for r in tick.run_requests or []] == [
        "2026-11-24|AAPL",
        "2026-11-24|MSFT",
    ]

    # Seen and lifted from the command line (same instance: DAGSTER_HOME is the test's).
    def cli(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    listing = cli("symbols", "quarantined")
    assert listing.exit_code == 0
    assert "ZZDEAD" in listing.output and "3 failed run(s)" in listing.output
    assert "stock-pipeline symbols enable ZZDEAD ZZEMPTY" in listing.output
    enabled = cli("symbols", "enable", "zzdead", "AAPL")
    assert "ZZDEAD: enabled" in enabled.output and "AAPL: not quarantined" in enabled.output
    assert list(quarantined_symbols(pipeline.instance)) == ["ZZEMPTY"]
