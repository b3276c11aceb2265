"""What a run did, read back from the event log: stored partitions, failures as data, requests."""

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.services.run_report import read_run_report
from stock_pipeline_tests.support.pipeline import Pipeline


def run_intraday(pipeline: Pipeline, first: str, last: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("intraday_prices_job").execute_in_process(
        instance=pipeline.instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def test_a_failed_run_reports_what_was_stored_and_each_failure_as_data(
    pipeline: Pipeline,
) -> None:
    pipeline.register(["AAPL", "ZZDEAD"])
    result = run_intraday(pipeline, "2026-11-24|AAPL", "2026-11-24|ZZDEAD")
    report = read_run_report(pipeline.instance, result.run_id)
    assert report.status == "FAILURE" and not report.succeeded
    assert list(report.stored) == ["2026-11-24|AAPL"]
    stored = report.stored["2026-11-24|AAPL"]
    assert (stored.rows, stored.interval) == (78, "5m") and report.rows == 78
    assert list(report.failed) == ["2026-11-24|ZZDEAD"]
    assert report.failed["2026-11-24|ZZDEAD"].startswith("SymbolNotFoundError")
    failure = report.failures["2026-11-24|ZZDEAD"]
    assert (failure.kind, failure.no_data, failure.transient) == (
        "SymbolNotFoundError",
        True,
        False,
    )
    assert report.failure is not None and "1 of 2" in report.failure
    assert report.price_requests >= 1 and report.requests >= report.price_requests


def test_a_successful_run_reports_its_rows(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "MSFT"])
    result = run_intraday(pipeline, "2026-11-24|AAPL", "2026-11-24|MSFT")
    report = read_run_report(pipeline.instance, result.run_id)
    assert report.succeeded and report.failure is None
    assert report.rows == 2 * 78 and set(report.stored) == {"2026-11-24|AAPL", "2026-11-24|MSFT"}
    assert report.failed == {} and report.failures == {}


def test_an_unknown_run_id_is_a_key_error(instance: dg.DagsterInstance) -> None:
    with pytest.raises(KeyError, match="no run nope"):
        read_run_report(instance, "nope")
