"""Each private Dagster API of ``defs/dagster_private.py`` still works as the project uses it.

A failure here after a Dagster upgrade names the API that moved; fix that module, nowhere else.
"""

import os
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.background.queue import WORKSPACE_FILE
from stock_pipeline.defs import dagster_private
from stock_pipeline_tests.support.pipeline import ASSETS, Pipeline, failure_metadata


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


def test_the_workspace_loads_in_process(instance: dg.DagsterInstance) -> None:
    assert Path(WORKSPACE_FILE).exists()
    with dagster_private.workspace_in_process(instance, WORKSPACE_FILE) as workspace:
        (name,) = workspace.code_location_names
        location = workspace.get_code_location(name)
        assert location.get_repository("__repository__").has_job("intraday_prices_job")


def test_a_range_run_plans_all_its_partitions_in_one_event(pipeline: Pipeline) -> None:
    """2 days x 4 symbols, one unknown to Yahoo: one planned event holds the run's 8
    partitions (Dagster's default writes 8 events, a SQLite commit pair each), and the
    partial failure is unchanged: the 6 good partitions materialized one by one, the run
    failed naming the 2 bad ones, and Dagster's partition status shows those 2 failed."""
    symbols = ["AAPL", "ZZBOGUS", "MSFT", "KO"]
    pipeline.register(symbols)
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", "2026-11-25|KO")
    keys = {f"{day}|{s}" for day in ("2026-11-24", "2026-11-25") for s in symbols}
    bad = {k for k in keys if k.endswith("|ZZBOGUS")}

    records = pipeline.instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    planned = [r.event_log_entry.get_dagster_event().event_specific_data for r in records]
    whole = [p for p in planned if p.partition is None]
    assert len(whole) == 1, f"{len(planned)} planned events: one per partition again"
    assert set(whole[0].partitions_subset.get_partition_keys()) == keys
    # Written by the step as it failed, for the failed partitions only.
    assert {p.partition for p in planned if p.partition is not None} == bad
    assert len(planned) == 1 + len(bad)

    assert not result.success
    assert set(failure_metadata(result)["failed_partitions"]) == bad
    assert pipeline.materialized("intraday_prices") == keys - bad
    materialized = pipeline.instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    assert sorted(r.event_log_entry.get_dagster_event().partition for r in materialized) == sorted(
        keys - bad
    )
    status = pipeline.instance.get_status_by_partition(
        dg.AssetKey("intraday_prices"), sorted(keys), ASSETS["intraday_prices"].partitions_def
    )
    assert status is not None
    assert {k for k, v in status.items() if v == dg.AssetPartitionStatus.FAILED} == bad
    assert {k for k, v in status.items() if v == dg.AssetPartitionStatus.MATERIALIZED} == (
        keys - bad
    )


def test_dagster_s_own_commands_read_the_switch_from_the_project_s_env_file() -> None:
    """dagster-daemon and dagster-webserver create runs without importing the project; they
    load ``.env`` from the directory they start in (the project root) as this does."""
    from dagster._core.secrets.env_file import get_env_var_dict

    values = get_env_var_dict(str(settings.PROJECT_DIR))
    assert values[dagster_private.PLANNED_EVENTS_ENV] == "1"
    assert values[dagster_private.EVENT_BATCH_ENV] == str(dagster_private.EVENT_BATCH_SIZE)


def _run_with_check(instance: dg.DagsterInstance, use_hook: bool) -> tuple[int, Any]:
    """A 200-partition asset and a per-run check on it, materialized over two partitions."""
    keys = [f"p{i:03d}" for i in range(200)]
    filled: list[int] = []

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(keys))
    def wide(context: dg.AssetExecutionContext) -> None:
        return None

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("ok", asset=wide)])
    def wide_ok(context: dg.AssetCheckExecutionContext) -> Any:
        if use_hook:
            filled.append(dagster_private.skip_partition_listing_for_checks(context))
        yield dg.AssetCheckResult(asset_key=wide.key, check_name="ok", passed=True)

    tags = {
        "dagster/asset_partition_range_start": "p001",
        "dagster/asset_partition_range_end": "p002",
    }
    result = dg.materialize([wide, wide_ok], instance=instance, tags=tags)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    return (filled[0] if filled else -1), evaluation.target_materialization_data


def test_a_per_run_check_finds_its_materialization_without_listing_every_partition(
    pipeline: Pipeline, monkeypatch: Any
) -> None:
    from dagster._core.execution.context.system import StepExecutionContext

    listed: list[str] = []
    dagster_lists = StepExecutionContext.asset_partitions_subset_for_input

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        listed.append(self.step.key)
        return dagster_lists(self, *args, **kwargs)

    monkeypatch.setattr(StepExecutionContext, "asset_partitions_subset_for_input", spy)
    latest = partial(pipeline.instance.fetch_materializations, dg.AssetKey("wide"), limit=1)

    filled, target = _run_with_check(pipeline.instance, use_hook=True)
    assert filled == 1, "Dagster's data version cache is gone: the check lists every partition"
    assert listed == [], "the check step still listed the asset's partitions"
    assert target is not None and target.storage_id == latest().records[0].storage_id

    filled, dagster_target = _run_with_check(pipeline.instance, use_hook=False)
    assert listed, "Dagster no longer lists the partitions here: the hook may be dropped"
    # Dagster's own answer is the same kind: the asset's latest materialization.
    assert dagster_target is not None
    assert dagster_target.storage_id == latest().records[0].storage_id
    assert dagster_target.run_id != target.run_id


def test_a_step_s_partition_materializations_are_stored_in_one_batch(
    pipeline: Pipeline, monkeypatch: Any
) -> None:
    """With the switch a multi-partition step hands its materializations to the storage's
    batch write (PostgreSQL inserts them at once); every partition is still materialized."""
    storage_class = type(pipeline.instance.event_log_storage)
    batches: list[int] = []
    dagster_batch = storage_class.store_event_batch

    def spy(self: Any, events: Any) -> None:
        batches.append(len(events))
        dagster_batch(self, events)

    monkeypatch.setattr(storage_class, "store_event_batch", spy)
    keys = ["a", "b", "c"]

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(keys))
    def letters(context: dg.AssetExecutionContext) -> None:
        return None

    tags = {"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "c"}
    assert os.environ[dagster_private.EVENT_BATCH_ENV] == str(dagster_private.EVENT_BATCH_SIZE)
    assert dg.materialize([letters], instance=pipeline.instance, tags=tags).success
    assert batches == [3], "Dagster no longer batches a step's materializations"
    status = pipeline.instance.get_status_by_partition(letters.key, keys, letters.partitions_def)
    assert status == dict.fromkeys(keys, dg.AssetPartitionStatus.MATERIALIZED)

    batches.clear()
    monkeypatch.setenv(dagster_private.EVENT_BATCH_ENV, "0")
    assert dg.materialize([letters], instance=pipeline.instance, tags=tags).success
    assert batches == []  # the switch is what batches them


def test_sqlite_stores_a_batch_of_materializations_as_it_stores_them_one_by_one(
    pipeline: Pipeline, monkeypatch: Any
) -> None:
    """The batch write fitted to Dagster's SQLite event log leaves exactly what its one-by-one
    writes leave: the run's event rows, the index copies, each partition materialized, the
    asset's latest materialization, the event tags (a run with it, then one without)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    assert dagster_private.write_sqlite_materializations_at_once()
    assert getattr(SqliteEventLogStorage.store_event_batch, "_stock_pipeline", False)
    instance = pipeline.instance
    assert isinstance(instance.event_log_storage, SqliteEventLogStorage)
    keys = ["a", "b", "c"]

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(keys))
    def letters(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"n": 1})

    tags = {"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "c"}

    def left_by(run_id: str) -> dict[str, Any]:
        records = instance.fetch_materializations(letters.key, limit=100).records
        in_index = sorted(r.partition_key or "" for r in records if r.run_id == run_id)
        in_run = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        return {
            "index": in_index,
            "run": sorted(r.event_log_entry.dagster_event.partition for r in in_run),
        }

    batched = dg.materialize([letters], instance=instance, tags=tags)
    monkeypatch.setenv(dagster_private.EVENT_BATCH_ENV, "0")
    one_by_one = dg.materialize([letters], instance=instance, tags=tags)
    assert batched.success and one_by_one.success
    assert left_by(batched.run_id) == left_by(one_by_one.run_id) == {"index": keys, "run": keys}
    assert instance.get_materialized_partitions(letters.key) == set(keys)
    latest = instance.get_latest_materialization_event(letters.key)
    assert latest is not None and latest.run_id == one_by_one.run_id
    tags_by_event = instance.event_log_storage.get_event_tags_for_asset(letters.key)
    assert len(tags_by_event) == 6  # the partition tag of each of the 2 × 3 materializations
