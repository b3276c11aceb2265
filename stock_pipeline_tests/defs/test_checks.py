"""The asset checks run by Dagster on the project's assets, fake Yahoo, temporary DuckDB."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import NamedTuple

import dagster as dg
import pytest
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionResolvedStatus,
)

from stock_pipeline.definitions import defs as project_defs
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.checks import ASSET_CHECKS, daily_prices_checks, intraday_prices_checks
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    DAILY_MOVE,
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


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """The run's check results by check name (one each: the checks are per run)."""
    found: dict[str, dg.AssetCheckEvaluation] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            assert isinstance(data, dg.AssetCheckEvaluation)
            assert data.check_name not in found, "a check reported twice in one run"
            found[data.check_name] = data
    return found


def check_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, int]:
    """Check events the run wrote to the event log, planned and evaluated."""
    counts = {"ASSET_CHECK_EVALUATION_PLANNED": 0, "ASSET_CHECK_EVALUATION": 0}
    for record in instance.get_records_for_run(run_id, limit=100_000).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.event_type_value in counts:
            counts[event.event_type_value] += 1
    return counts


def partition_verdicts(instance: dg.DagsterInstance, asset: dg.AssetKey, key: str) -> dict:
    """``check/<name>`` entries of a partition's latest materialization."""
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[key]), limit=1
    ).records[0]
    assert record.asset_materialization is not None
    return {
        name.removeprefix("check/"): entry.value
        for name, entry in record.asset_materialization.metadata.items()
        if name.startswith("check/")
    }


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


def test_a_range_run_records_one_result_per_check_and_verdicts_per_partition(
    run: Stored,
) -> None:
    found = evaluations(run.result)
    assert sorted(found) == sorted(INTRADAY_CHECKS)
    assert all(e.passed for e in found.values())
    for evaluation in found.values():
        assert evaluation.partition is None
        assert evaluation.metadata["partitions_checked"].value == len(KEYS)
        assert evaluation.metadata["partitions_failed"].value == 0
    assert found[OHLC_SANE].blocking and not found[BAR_COUNT].blocking
    assert found[BAR_COUNT].metadata["rows"].value == 78 + 78 + 77 + 78  # the 24th of MSFT: 77
    # Each partition's own verdict is in its materialization metadata.
    for key in KEYS:
        verdicts = partition_verdicts(run.pipeline.instance, intraday_prices.key, key)
        assert verdicts == dict.fromkeys(INTRADAY_CHECKS, "passed")


def test_check_bookkeeping_does_not_grow_with_partitions_or_days(stored: Pipeline) -> None:
    """Four check results per run, 1 partition or 6; the UI's check state reads one record
    per check however many runs and days there were (per-partition checks: one each)."""
    single = dg.materialize(
        [intraday_prices, intraday_prices_checks],
        instance=stored.instance,
        resources=stored.resources(),
        tags={"dagster/partition": "2026-11-23|AAPL"},
    )
    stored.register(["NVDA"])
    wide = dg.materialize(
        [intraday_prices, intraday_prices_checks],
        instance=stored.instance,
        resources=stored.resources(),
        tags={
            "dagster/asset_partition_range_start": "2026-11-23|AAPL",
            "dagster/asset_partition_range_end": "2026-11-24|NVDA",
        },
    )
    assert single.success and wide.success
    per_run = {"ASSET_CHECK_EVALUATION_PLANNED": 4, "ASSET_CHECK_EVALUATION": 4}
    for result in (single, wide):
        assert check_events(stored.instance, result.run_id) == per_run
    keys = [dg.AssetCheckKey(intraday_prices.key, name) for name in INTRADAY_CHECKS]
    infos = stored.instance.event_log_storage.get_asset_check_partition_info(keys)
    assert sorted(i.check_key.name for i in infos) == sorted(INTRADAY_CHECKS)
    assert all(i.partition_key is None for i in infos)
    state = stored.instance.event_log_storage.get_asset_check_state([(k, None) for k in keys])
    # The state the asset page computes: one yes/no per status, not a partition subset.
    assert all(not sub.is_partitioned for st in state.values() for sub in st.subsets.values())
    ohlc = state[dg.AssetCheckKey(intraday_prices.key, OHLC_SANE)]
    assert ohlc.subsets[AssetCheckExecutionResolvedStatus.SUCCEEDED].bool_value


def test_corrupt_bars_fail_the_blocking_checks_and_stop_downstream(stored: Pipeline) -> None:
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

    @dg.asset(partitions_def=intraday_prices.partitions_def, deps=[intraday_prices])
    def downstream_of_bars() -> None:
        """Must not run on corrupt bars."""

    defs = dg.Definitions(
        assets=[intraday_prices, downstream_of_bars],
        asset_checks=[intraday_prices_checks],
        jobs=[
            dg.define_asset_job(
                "checks_then_downstream",
                selection=dg.AssetSelection.checks(intraday_prices_checks)
                | dg.AssetSelection.assets(downstream_of_bars),
            )
        ],
        resources=stored.resources(),
    )
    result = defs.resolve_job_def("checks_then_downstream").execute_in_process(
        instance=stored.instance, tags=RANGE, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "blocking asset check" in str(failure.event_specific_data.error.message)
    assert not any(
        e.event_type_value == "STEP_START" and e.step_key == "downstream_of_bars"
        for e in result.all_events
    )
    found = evaluations(result)
    assert {c for c, e in found.items() if not e.passed} == set(INTRADAY_CHECKS)
    for evaluation in found.values():
        assert evaluation.metadata["partitions_checked"].value == len(KEYS)
        assert evaluation.metadata["partitions_failed"].value == 1
        assert list(evaluation.metadata["failed_partitions"].value) == ["2026-11-25|MSFT"]
        assert evaluation.description is not None
        assert evaluation.description.startswith("1 of 4 partition(s) failed: 2026-11-25|MSFT:")
    assert found[OHLC_SANE].metadata["ohlc_order"].value == 3
    assert found[BARS_IN_SESSION].metadata["off_grid"].value == 1
    assert found[UNIQUE_BARS].metadata["duplicate_slot"].value == 1
    assert found[OHLC_SANE].severity == dg.AssetCheckSeverity.ERROR
    assert found[BAR_COUNT].severity == dg.AssetCheckSeverity.WARN


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
    count = evaluations(result)[BAR_COUNT]
    assert not count.passed
    assert count.severity == dg.AssetCheckSeverity.WARN
    assert count.metadata["missing_or_extra_bars"].value == 2
    failed = count.metadata["failed_partitions"].value
    assert list(failed) == ["2026-11-24|AAPL"]
    assert failed["2026-11-24|AAPL"].startswith("too_few_bars_5m: 2 row(s) (75 stored")


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
    assert found[MATCHES_INTRADAY].passed
    assert found[MATCHES_INTRADAY].metadata["days_compared"].value == 4  # 2 days × 2 symbols
    assert found[OHLC_SANE].passed
    assert found[DAILY_MOVE].passed
    assert partition_verdicts(stored.instance, daily_prices.key, "2026|MSFT") == {
        OHLC_SANE: "passed",
        DAILY_MOVE: "passed",
    }

    with connect(stored.database) as con:
        con.execute(
            "UPDATE daily_prices SET volume = volume * 3 "
            "WHERE symbol = 'AAPL' AND date = '2026-11-25' AND interval = '1d'"
        )
    rerun = check_only_job(stored, daily_prices_checks).execute_in_process(
        instance=stored.instance, tags=year, raise_on_error=False
    )
    assert rerun.success  # consistency is a warning, not corrupt data
    mismatch = evaluations(rerun)[MATCHES_INTRADAY]
    assert not mismatch.passed
    assert mismatch.metadata["days_mismatched"].value == 1
    assert mismatch.description is not None
    assert mismatch.description.startswith(
        "1 of 2 partition(s) failed: 2026|AAPL: 2026-11-25: volume"
    )


def test_project_jobs_run_the_checks_of_their_assets() -> None:
    intraday_job = project_defs.resolve_job_def("intraday_prices_job")
    check_names = {k.name for k in intraday_job.asset_layer.asset_graph.asset_check_keys}
    assert set(INTRADAY_CHECKS) <= check_names
    assert len(ASSET_CHECKS) == 4  # and the weekly re-verification (reverify_job only)


def test_definitions_load_without_warnings() -> None:
    """Nothing warns (the checks are per run: no preview flag of partitioned checks)."""
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
    count = evaluations(result)[BAR_COUNT]
    assert not count.passed
    assert count.metadata["failed_partitions"].value == {
        "2026-11-25|AAPL": "no bars stored for this partition"
    }


BAD_PRINT = date(2026, 1, 2)  # MSFT's first session of 2026, served 100x too high


@pytest.mark.fake_yahoo(bad_prints={"MSFT": (BAD_PRINT,)})
def test_a_100x_print_warns_across_the_year_boundary_but_a_real_split_does_not(
    pipeline: Pipeline,
) -> None:
    pipeline.register(["SPLT", "MSFT"])
    assert pipeline.materialize("daily_prices", "2025|SPLT", "2025|MSFT").success
    # 2026 alone: its first move is measured from 2025-12-31, stored by the run before.
    year = {
        "dagster/asset_partition_range_start": "2026|SPLT",
        "dagster/asset_partition_range_end": "2026|MSFT",
    }
    result = dg.materialize(
        [daily_prices, daily_prices_checks],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags=year,
    )
    assert result.success  # a warning: the run and what is downstream go on
    move = evaluations(result)[DAILY_MOVE]
    assert not move.passed and not move.blocking
    assert move.severity == dg.AssetCheckSeverity.WARN
    assert move.metadata["partitions_failed"].value == 1
    assert move.metadata["unexplained_moves"].value == 2  # up on the 2nd, back on the 5th
    named = move.metadata["failed_partitions"].value
    assert list(named) == ["2026|MSFT"]  # SPLT's 4:1 split on 2026-06-15 explains its drop
    assert named["2026|MSFT"].startswith("MSFT 2026-01-02: close ")
    assert " on 2025-12-31 (+99" in named["2026|MSFT"]  # 100x and the day's own move
    assert "MSFT 2026-01-05" in named["2026|MSFT"]
    raw = pipeline.query(
        "SELECT date, close FROM daily_prices WHERE symbol = 'SPLT' AND interval = '1d' "
        "AND date IN ('2026-06-12', '2026-06-15') ORDER BY date"
    )
    assert raw["close"][1] / raw["close"][0] < 0.3  # as traded: the split is in the raw rows
    # The asset's own verdict per partition, in its materialization metadata.
    msft = partition_verdicts(pipeline.instance, daily_prices.key, "2026|MSFT")
    assert msft[DAILY_MOVE].startswith("FAILED: MSFT 2026-01-02: close ")
    splt = partition_verdicts(pipeline.instance, daily_prices.key, "2026|SPLT")
    assert splt[DAILY_MOVE] == "passed"
