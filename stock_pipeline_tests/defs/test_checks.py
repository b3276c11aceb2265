"""The asset checks run by Dagster on the project's assets, fake Yahoo, temporary DuckDB."""

from __future__ import annotations

import subprocess
import sys
from typing import NamedTuple

import dagster as dg
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from stock_pipeline.definitions import defs as project_defs
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.checks import ASSET_CHECKS, daily_prices_checks, intraday_prices_checks
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    MATCHES_INTRADAY,
    OHLC_SANE,
    UNIQUE_BARS,
)
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.pipeline import Pipeline

RANGE = {
    "dagster/asset_partition_range_start": "2026-11-24|AAPL",
    "dagster/asset_partition_range_end": "2026-11-25|MSFT",
}
KEYS = ["2026-11-24|AAPL", "2026-11-24|MSFT", "2026-11-25|AAPL", "2026-11-25|MSFT"]
INTRADAY_CHECKS = [OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION, BAR_COUNT]


def evaluations(
    result: dg.ExecuteInProcessResult,
) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            assert isinstance(data, dg.AssetCheckEvaluation)
            found[(str(data.partition), data.check_name)] = data
    return found


def check_only_job(pipeline: Pipeline, checks: dg.AssetChecksDefinition) -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[intraday_prices, daily_prices],
        asset_checks=[checks],
        jobs=[dg.define_asset_job("checks_job", selection=dg.AssetSelection.checks(checks))],
        resources=pipeline.resources(),
    )
    return defs.resolve_job_def("checks_job")


class Stored(NamedTuple):
    pipeline: Pipeline
    result: dg.ExecuteInProcessResult


@pytest.fixture
def run(pipeline: Pipeline) -> Stored:
    """AAPL and MSFT on 2026-11-24 and 25, materialized with their checks in one run."""
    pipeline.register(["AAPL", "MSFT"])
    result = dg.materialize(
        [intraday_prices, intraday_prices_checks],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags=RANGE,
    )
    assert result.success
    return Stored(pipeline, result)


@pytest.fixture
def stored(run: Stored) -> Pipeline:
    return run.pipeline


def test_every_partition_of_a_range_run_gets_its_own_check_results(stored: Pipeline) -> None:
    key = dg.AssetCheckKey(intraday_prices.key, OHLC_SANE)
    infos = stored.instance.event_log_storage.get_asset_check_partition_info([key])
    by_partition = {i.partition_key: i for i in infos}
    assert sorted(by_partition) == KEYS
    for info in by_partition.values():
        # The result names the partition's latest materialization: the UI shows it current.
        assert info.latest_execution_status == AssetCheckExecutionRecordStatus.SUCCEEDED
        assert info.is_current


def test_checks_pass_on_fake_yahoo_data_with_counts_in_metadata(run: Stored) -> None:
    found = evaluations(run.result)
    assert sorted(found) == sorted((k, c) for k in KEYS for c in INTRADAY_CHECKS)
    assert all(e.passed for e in found.values())
    count = found[("2026-11-25|AAPL", BAR_COUNT)]
    assert count.metadata["expected_5m"].value == "77-78"
    assert found[("2026-11-25|AAPL", OHLC_SANE)].blocking
    assert not count.blocking


def test_corrupt_bars_fail_the_blocking_checks_and_the_run(stored: Pipeline) -> None:
    with connect(stored.database) as con:
        con.execute(
            """UPDATE intraday_prices SET low = high + 1 WHERE symbol = 'MSFT'
               AND session_date = '2026-11-25' AND ts < '2026-11-25 14:45:00+00'"""
        )
        con.execute(
            """INSERT INTO intraday_prices SELECT symbol, interval, session_date,
               ts + INTERVAL 2 MINUTE, open, high, low, close, volume, fetched_at
               FROM intraday_prices WHERE symbol = 'MSFT' AND session_date = '2026-11-25'
               AND ts = '2026-11-25 15:00:00+00'"""
        )
    result = check_only_job(stored, intraday_prices_checks).execute_in_process(
        instance=stored.instance, tags=RANGE, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "blocking asset check" in str(failure.event_specific_data.error.message)
    found = evaluations(result)
    bad = {c for (k, c), e in found.items() if not e.passed and k == "2026-11-25|MSFT"}
    assert bad == {OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION, BAR_COUNT}
    assert found[("2026-11-25|MSFT", OHLC_SANE)].metadata["ohlc_order"].value == 3
    assert found[("2026-11-25|MSFT", BARS_IN_SESSION)].metadata["off_grid"].value == 1
    assert found[("2026-11-25|MSFT", UNIQUE_BARS)].metadata["duplicate_slot"].value == 1
    assert found[("2026-11-25|MSFT", BAR_COUNT)].severity == dg.AssetCheckSeverity.WARN
    assert all(e.passed for (k, _), e in found.items() if k != "2026-11-25|MSFT")


def test_missing_bars_warn_without_failing_the_run(stored: Pipeline) -> None:
    with connect(stored.database) as con:
        con.execute(
            """DELETE FROM intraday_prices WHERE symbol = 'AAPL' AND session_date = '2026-11-24'
               AND ts >= '2026-11-24 20:45:00+00'"""  # the last 3 bars
        )
    result = check_only_job(stored, intraday_prices_checks).execute_in_process(
        instance=stored.instance, tags=RANGE, raise_on_error=False
    )
    assert result.success
    count = evaluations(result)[("2026-11-24|AAPL", BAR_COUNT)]
    assert not count.passed
    assert count.severity == dg.AssetCheckSeverity.WARN
    assert count.metadata["bars_5m"].value == 75
    assert count.metadata["missing_or_extra_bars"].value == 2


def test_daily_bars_are_checked_against_the_days_intraday_bars(stored: Pipeline) -> None:
    year = {"dagster/asset_partition_range_start": "2026|AAPL"}
    year["dagster/asset_partition_range_end"] = "2026|MSFT"
    result = dg.materialize(
        [daily_prices, daily_prices_checks],
        instance=stored.instance,
        resources=stored.resources(),
        tags=year,
    )
    assert result.success
    found = evaluations(result)
    assert found[("2026|AAPL", MATCHES_INTRADAY)].passed
    assert found[("2026|AAPL", MATCHES_INTRADAY)].metadata["days_compared"].value == 2
    assert found[("2026|MSFT", OHLC_SANE)].passed

    with connect(stored.database) as con:
        con.execute(
            "UPDATE daily_prices SET volume = volume * 3 "
            "WHERE symbol = 'AAPL' AND date = '2026-11-25' AND interval = '1d'"
        )
    rerun = check_only_job(stored, daily_prices_checks).execute_in_process(
        instance=stored.instance, tags=year, raise_on_error=False
    )
    assert rerun.success  # consistency is a warning, not corrupt data
    mismatch = evaluations(rerun)[("2026|AAPL", MATCHES_INTRADAY)]
    assert not mismatch.passed
    assert mismatch.metadata["days_mismatched"].value == 1
    assert mismatch.description is not None
    assert mismatch.description.startswith("2026-11-25: volume")


def test_project_jobs_run_the_checks_of_their_assets() -> None:
    intraday_job = project_defs.resolve_job_def("intraday_prices_job")
    check_names = {k.name for k in intraday_job.asset_layer.asset_graph.asset_check_keys}
    assert set(INTRADAY_CHECKS) <= check_names
    assert len(ASSET_CHECKS) == 3


def test_definitions_load_without_warnings() -> None:
    """The preview flag of partitioned checks is silenced narrowly; nothing else warns."""
    code = "from stock_pipeline.definitions import defs; assert defs"
    result = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-W", "error::Warning", "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr


def test_an_unfetched_partition_is_reported_missing(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = check_only_job(pipeline, intraday_prices_checks).execute_in_process(
        instance=pipeline.instance,
        tags={"dagster/partition": "2026-11-25|AAPL"},
        raise_on_error=False,
    )
    assert result.success
    found = evaluations(result)
    assert not found[("2026-11-25|AAPL", BAR_COUNT)].passed
    assert found[("2026-11-25|AAPL", BAR_COUNT)].description == "no bars stored for this partition"
