"""Each private Dagster API of ``defs/dagster_private.py`` still works as the project uses it.

A failure here after a Dagster upgrade names the API that moved; fix that module, nowhere else.
"""

from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import dagster as dg

from stock_pipeline.background.queue import WORKSPACE_FILE
from stock_pipeline.defs import dagster_private
from stock_pipeline_tests.support.pipeline import Pipeline


def test_cron_instants_follow_new_york_across_daylight_saving() -> None:
    before_dst_ends = datetime(2026, 10, 30, 12, tzinfo=UTC)  # Friday; DST ends Sunday
    instants = list(
        islice(
            dagster_private.cron_instants("30 9 * * 1-5", "America/New_York", before_dst_ends), 2
        )
    )
    assert [i.astimezone(UTC).hour for i in instants] == [13, 14]  # 09:30 EDT, then 09:30 EST
    assert [i.hour for i in instants] == [9, 9]


def test_partition_metadata_reaches_each_partition_s_materialization(pipeline: Pipeline) -> None:
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def numbers(context: dg.AssetExecutionContext) -> None:
        seen["used_accumulator"] = dagster_private.add_partition_metadata_at_once(
            context, {"a": {"n": 1}, "b": {"n": 2}}
        )

    result = dg.materialize(
        [numbers],
        instance=pipeline.instance,
        tags={"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "b"},
    )
    assert result.success
    assert seen["used_accumulator"] is True, "Dagster's step metadata accumulator is gone"
    by_key = {
        m.partition: m.metadata["n"].value
        for m in result.asset_materializations_for_node("numbers")
    }
    assert by_key == {"a": 1, "b": 2}


def test_a_check_evaluation_can_name_the_materialization_it_judged(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    assert pipeline.materialize("intraday_prices", "2026-11-24|AAPL").success
    (record,) = pipeline.instance.fetch_materializations(
        dg.AssetKey("intraday_prices"), limit=1
    ).records
    target = dagster_private.target_materialization_data(record)
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("intraday_prices"),
        check_name="probe",
        passed=True,
        partition="2026-11-24|AAPL",
        target_materialization_data=target,
    )
    assert evaluation.target_materialization_data.storage_id == record.storage_id


def test_the_workspace_loads_in_process(instance: dg.DagsterInstance) -> None:
    assert Path(WORKSPACE_FILE).exists()
    with dagster_private.workspace_in_process(instance, WORKSPACE_FILE) as workspace:
        (name,) = workspace.code_location_names
        location = workspace.get_code_location(name)
        assert location.get_repository("__repository__").has_job("intraday_prices_job")
