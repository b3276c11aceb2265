"""Every run tag and run-config key the project reads or writes, defined once.

Tags are how a run says what it is (its interval, who started it, which partitions);
Dagster's own tags are named here too, so no module spells them again. Plain strings and
dicts: no Dagster import.
"""

from __future__ import annotations

from typing import Any

# The project's tags.
INTERVAL_TAG = "stock_pipeline/interval"  # the bar interval a price run fetched
ORIGIN_TAG = "stock_pipeline/origin"  # who asked: cli, schedule, sensor, retention, ...
SOURCE_TAG = "stock_pipeline/source"  # where an asset's data comes from
RETENTION_TAG = "stock_pipeline/retention"
SYMBOL_HEALTH_KEY = "stock_pipeline/symbol_health"  # instance key-value store: quarantine

# Metadata of a failed price step: each failed partition's PartitionFailure, as JSON.
FAILURE_DETAILS = "failure_details"

# Dagster's tags.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
BACKFILL_TAG = "dagster/backfill"
ROOT_RUN_ID_TAG = "dagster/root_run_id"
WILL_RETRY_TAG = "dagster/will_retry"
SCHEDULE_NAME_TAG = "dagster/schedule_name"  # set by Dagster on every scheduled run
SCHEDULED_TIME_TAG = ".dagster/scheduled_execution_time"
# Dagster's switch for one planned-materialization event per run instead of one per
# partition (read by its event log storage; set by stock_pipeline/defs/dagster_private.py).
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
# Dagster's switch for writing a step's per-partition materializations in batches of this
# size (set by stock_pipeline/defs/dagster_private.py).
EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = 1000

# Op names whose config the project sets.
INTRADAY_OP = "intraday_prices"
DAILY_OP = "daily_prices"


def price_run_config(op: str, interval: str) -> dict[str, Any]:
    """Run config choosing the bar interval of a price asset's run."""
    return {"ops": {op: {"config": {"interval": interval}}}}


def as_of_run_config(op: str, moment_iso: str) -> dict[str, Any]:
    """Run config pinning an op's notion of now (freshness, retention)."""
    return {"ops": {op: {"config": {"as_of": moment_iso}}}}
