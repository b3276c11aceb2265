"""A handle reads everything back from the instance: results, retries, failures with reasons."""

from typing import Any

import dagster as dg

from stock_pipeline.background import JobStatus, SyncHandle, submit_intraday_sync
from stock_pipeline.background.handle import ROOT_RUN_ID_TAG, WILL_RETRY_TAG, symbol_of
from stock_pipeline.definitions import defs

KEY = "2026-11-25|AAPL"


def _run(instance: dg.DagsterInstance, interval: str, **tags: str) -> str:
    config: dict[str, Any] = {"ops": {"intraday_prices": {"config": {"interval": interval}}}}
    result = defs.resolve_job_def("intraday_prices_job").execute_in_process(
        instance=instance,
        run_config=config,
        tags={"dagster/partition": KEY, **tags},
        raise_on_error=False,
    )
    return result.run_id


def test_a_handle_rebuilt_from_run_ids_reports_the_same_result(
    instance_with_symbols: dg.DagsterInstance,
) -> None:
    handle = submit_intraday_sync(["MSFT"], eager=True, instance=instance_with_symbols)
    again = SyncHandle.from_run_ids(handle.run_ids, instance_with_symbols)
    assert again.run_id == handle.run_id and again.status == JobStatus.SUCCEEDED
    first, second = handle.wait(timeout=0), again.wait(timeout=0)
    assert second.partitions == first.partitions and second.rows == first.rows > 0


def test_a_run_failing_before_any_partition_reports_its_message(
    instance_with_symbols: dg.DagsterInstance,
) -> None:
    failed = _run(instance_with_symbols, "7m")
    result = SyncHandle([failed], instance_with_symbols).wait(timeout=0)
    assert result.status == JobStatus.FAILED and result.failed == {}
    assert "unknown intraday interval '7m'" in result.errors[failed]
    assert "failed: unknown intraday interval" in result.summary()


def test_a_retried_run_is_followed_to_its_last_attempt(
    instance_with_symbols: dg.DagsterInstance,
) -> None:
    first = _run(instance_with_symbols, "7m")
    handle = SyncHandle([first], instance_with_symbols)
    assert handle.status == JobStatus.FAILED
    instance_with_symbols.add_run_tags(first, {WILL_RETRY_TAG: "true"})
    assert handle.status == JobStatus.RUNNING and handle.result is None  # the retry is due
    retry = _run(instance_with_symbols, "5m", **{ROOT_RUN_ID_TAG: first})
    assert handle.statuses() == {first: JobStatus.SUCCEEDED}
    result = handle.wait(timeout=0)
    assert list(result.partitions) == [KEY] and result.errors == {}
    assert result.reports[0].run_id == first  # reported under the submitted run
    assert SyncHandle([retry], instance_with_symbols).status == JobStatus.SUCCEEDED


def test_symbols_are_read_from_partition_keys() -> None:
    assert symbol_of("2026-11-25|AAPL") == "AAPL"
    assert symbol_of("2026|BRK-B") == "BRK-B"
    assert symbol_of("current_prices") is None
