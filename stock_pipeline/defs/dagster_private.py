"""Every private Dagster API the project uses, gathered here, each with the reason.

Dagster 1.13 has no public form of these. ``stock_pipeline_tests/defs/test_dagster_private.py``
exercises each one, so an upgrade that moves or changes them fails there, loudly, naming
the API, instead of somewhere deep in a sync. Imports are made inside functions: the
command line must not pay for them at start-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from stock_pipeline.domain.run_keys import EVENT_BATCH_ENV, EVENT_BATCH_SIZE, PLANNED_EVENTS_ENV


def add_partition_metadata_at_once(
    context: dg.AssetExecutionContext, by_key: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Add each partition's metadata to the step's accumulator in one pass.

    Why private: ``add_asset_metadata(partition_key=...)`` lists every partition of the run
    again on each call to check the key: 50 ms a call at 500 partitions, so 25 s per
    500-partition run (profiled in bench B2/B7). Returns False, having done nothing, where
    the step has no such accumulator; the caller then uses the public call.
    """
    step = getattr(context.op_execution_context, "_step_execution_context", None)
    if not hasattr(step, "_metadata_accumulator"):
        return False
    accumulator = step._metadata_accumulator  # type: ignore[union-attr]
    for key, metadata in by_key.items():
        accumulator = accumulator.with_additional_asset_metadata(
            asset_key=context.asset_key, partition_key=key, metadata=metadata
        )
    step._metadata_accumulator = accumulator  # type: ignore[union-attr]
    return True


def plan_each_run_in_one_event() -> None:
    """Have Dagster record a run's planned materializations as one event per asset.

    Why private: this environment variable is Dagster's own switch (read by the event log
    storage's ``supports_partition_subset_in_asset_materialization_planned_events``, used
    in ``_core/instance/runs/run_domain.py``), not a documented setting. Without it,
    creating a run writes one ``ASSET_MATERIALIZATION_PLANNED`` event per partition: on
    SQLite each is its own pair of committed writes, about 10 ms of CPU each, so a run of
    1 day x 5,000 symbols took 50 s of CPU (minutes of wall time on a busy machine) before
    it started (bench B8: 58 s of CPU, 326 s wall). With it, the run's whole partition set
    goes into one event (0.5 s of CPU).

    What it costs: Dagster's partition status (the UI's partitions bar) learns "failed" and
    "in progress" per partition only from per-partition planned events. So the partitions
    of a running range run show as missing, not in progress; and those of a failed one
    show as missing unless marked: the price assets mark the partitions they could not
    store (``mark_partitions_failed``) when the step will not be retried; a run that
    crashes or whose step fails before that leaves its partitions missing. The run's
    failure still names each failed partition (``failed_partitions`` metadata), a backfill
    still marks exactly the partitions its failed runs did not materialize (Dagster takes
    those from the run's range tags), and the missing-partitions sensor re-fetches them.

    Set in every process of the project that imports ``stock_pipeline.defs`` (the command
    line, code servers, tests); ``dagster-daemon``, ``dagster-webserver`` and ``dagster
    dev`` create runs without importing the project, and take it from the project's
    ``.env``, which Dagster's commands load from the directory they start in (the project
    root: ``deploy/start-local.sh``, the systemd units), and from the systemd environment
    file. ``stock-pipeline health`` says when the daemon's runs were created without it.
    An explicit value (``0`` turns it off) is kept.
    """
    os.environ.setdefault(PLANNED_EVENTS_ENV, "1")


def store_materializations_in_batches() -> None:
    """Have Dagster store a step's per-partition materializations in batches.

    Why private: ``DAGSTER_EVENT_BATCH_SIZE`` is Dagster's own switch (read in
    ``_core/instance/methods/event_methods.py``; "expected for cloud deployments"), not a
    documented setting. A price step of 5,000 partitions yields 5,000 materialization
    events; without it each is its own write. With it, PostgreSQL (the production instance
    storage) stores up to ``EVENT_BATCH_SIZE`` of them in one insert and updates the asset's
    record once: 2,000 partitions' materializations took 97 s without it and 2.7 s with it
    (scratch PostgreSQL database, bench machine). Dagster's SQLite storage (the local
    default) has no batch write of its own: ``write_sqlite_materializations_at_once`` gives
    it one (50 s → 5.8 s for the same 2,000). Per-partition status is unchanged: every
    partition keeps its own materialization event.

    Set, like the planned-events switch, in every process that imports
    ``stock_pipeline.defs`` (run workers, where a step's events are written), in ``.env``
    and in the systemd environment file. An explicit value (``0`` turns it off) is kept.
    """
    os.environ.setdefault(EVENT_BATCH_ENV, str(EVENT_BATCH_SIZE))


def mark_partitions_failed(context: dg.AssetExecutionContext, keys: Sequence[str]) -> int:
    """Let Dagster's partition status show ``keys`` as failed once this run has failed.

    Why private: Dagster's open-source storage derives a partition's "failed" status from
    a per-partition ``ASSET_MATERIALIZATION_PLANNED`` event of a failed run with no
    materialization after it; with the run planned in one event
    (``plan_each_run_in_one_event``) there is none, and no public call writes one. This
    writes it for the failed partitions only (a write each: the cost grows with failures,
    not with the run's partitions). Returns how many were written: none when Dagster
    already planned each partition on its own (the switch off).
    """
    from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent

    instance = context.instance
    storage = instance.event_log_storage
    if not storage.supports_partition_subset_in_asset_materialization_planned_events:
        return 0
    step_key = context.get_step_execution_context().step.key
    for key in keys:
        event = DagsterEvent.build_asset_materialization_planned_event(
            context.job_name,
            step_key,
            AssetMaterializationPlannedData(context.asset_key, partition=key),
        )
        instance.report_dagster_event(event, context.run.run_id, logging.DEBUG)
    return len(keys)


def cron_instants(
    cron: str | Sequence[str], timezone: str | None, after: datetime
) -> Iterator[datetime]:
    """The cron's instants from ``after`` on, exactly as the daemon computes them.

    Why private: Dagster's tick iterator (daylight saving, several crons) has no public
    wrapper.
    """
    from dagster._utils.schedules import schedule_execution_time_iterator

    return schedule_execution_time_iterator(after.timestamp(), cron, timezone)


@contextmanager
def workspace_in_process(instance: dg.DagsterInstance, workspace_file: Path) -> Iterator[Any]:
    """The one code location of ``workspace_file``, loaded in this process.

    Why private: Dagster has no public call that submits a run to the queue without a
    webserver (the GraphQL client needs one). Follows ``dagster/_cli/job.py``
    (``execute_launch_command``) and ``dagster/_cli/workspace/cli_target.py``. Yields the
    workspace request context; ``.get_code_location(name)`` gives the location.
    """
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load import location_origins_from_yaml_paths
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    origins = location_origins_from_yaml_paths([str(workspace_file)])
    if len(origins) != 1:
        raise ValueError(f"{workspace_file} must name exactly one code location")
    origin = origins[0]
    in_process = InProcessCodeLocationOrigin(
        origin.loadable_target_origin, location_name=origin.location_name
    )
    target = InProcessWorkspaceLoadTarget([in_process])
    with WorkspaceProcessContext(instance, target) as process_context:
        workspace = process_context.create_request_context()
        error = workspace.get_code_location_error(origin.location_name)
        if error is not None:
            raise RuntimeError(
                f"code location {origin.location_name} failed to load: {error.to_string()}"
            )
        yield workspace


def skip_partition_listing_for_checks(context: dg.AssetCheckExecutionContext) -> int:
    """Tell this check step which materialization it judges without listing every partition.

    Why private: a check step that is not scoped to one partition (every check here: they
    run once per run) finds "the materialization it judges" through Dagster's data version
    cache, which first lists the checked asset's *whole* partition set (its dependency on
    the asset maps to all partitions) and then, at ``SKIP_PARTITION_DATA_VERSION_
    DEPENDENCY_THRESHOLD`` (100) keys or more, throws the list away and takes the asset's
    latest event. At 5,000 symbols x 167 sessions that list is 835,000 keys: 7 s of CPU and
    827 MiB per check step, measured in bench B8, and the peak of an hourly sync's run. This
    fills the cache with exactly what Dagster would have computed for such an asset (the
    latest materialization or observation, its data version), read from the asset record.
    Assets with fewer partitions than the threshold, and single-partition steps (Dagster
    then looks up that partition's materialization), are left to Dagster. Returns how
    many asset keys were filled in; 0 where the step has no such cache (the public path
    then runs unchanged, only slower).
    """
    from dagster._core.definitions.data_version import (
        SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD,
        extract_data_version_from_entry,
    )
    from dagster._core.definitions.partitions.context import partition_loading_context
    from dagster._core.execution.context.data_version_cache import InputAssetVersionInfo

    step = context.op_execution_context.get_step_execution_context()
    cache = getattr(step, "_data_version_cache", None)
    needed = ("input_asset_version_info", "_fetch_asset_records", "_get_input_asset_event")
    if cache is None or not all(hasattr(cache, name) for name in needed):
        return 0
    if step.has_partition_key:
        return 0
    filled = 0
    asset_layer = step.job_def.asset_layer
    for asset_key in sorted({key.asset_key for key in context.selected_asset_check_keys}):
        if asset_key in cache.input_asset_version_info or not asset_layer.has(asset_key):
            continue
        partitions_def = asset_layer.get(asset_key).partitions_def
        if partitions_def is None:
            continue
        with partition_loading_context(dynamic_partitions_store=step.instance):
            count = partitions_def.get_num_partitions()
        if count < SKIP_PARTITION_DATA_VERSION_DEPENDENCY_THRESHOLD:
            continue
        record = cache._fetch_asset_records([asset_key]).get(asset_key)
        event = cache._get_input_asset_event(asset_key, record)
        entry = event.event_log_entry if event is not None else None
        cache.input_asset_version_info[asset_key] = (
            None
            if event is None or entry is None or entry.dagster_event is None
            else InputAssetVersionInfo(
                event.storage_id,
                entry.dagster_event.event_type,
                extract_data_version_from_entry(entry),
                event.run_id,
                event.timestamp,
            )
        )
        filled += 1
    return filled


def write_sqlite_materializations_at_once() -> bool:
    """Give Dagster's SQLite event log the batch write its PostgreSQL one has.

    Why private: with ``DAGSTER_EVENT_BATCH_SIZE`` set (``store_materializations_in_batches``)
    a step hands its per-partition materializations to ``store_event_batch``; PostgreSQL
    inserts them at once, but Dagster's SQLite storage (the local default) inherits the base
    method, which stores them one by one, each its own pair of committed writes to the run's
    database and the index database (25-36 ms each here: 147 s of a 5,000-symbol hourly
    sync, bench B8). This stores a batch of one run's materializations in one transaction on
    each of the two, exactly the rows ``store_event`` writes one at a time (the run's event
    rows, the index copies with their tags, the asset's record per event in order).
    Installed only where Dagster's SQLite storage still has no batch write of its own, in
    processes that import ``stock_pipeline.defs`` (run workers write a step's events).
    Returns whether it is installed.
    """
    from dagster._core.events import DagsterEventType
    from dagster._core.storage.event_log.base import EventLogStorage
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.sqlalchemy_compat import db_result

    current = SqliteEventLogStorage.store_event_batch
    if getattr(current, "_stock_pipeline", False):
        return True
    if current is not EventLogStorage.store_event_batch:
        return False  # Dagster's own batch write: keep it

    def store_event_batch(self: SqliteEventLogStorage, events: Sequence[Any]) -> None:
        materializations = all(
            event.is_dagster_event
            and event.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION
            for event in events
        )
        run_ids = {event.run_id for event in events}
        if not events or not materializations or len(run_ids) != 1:
            current(self, events)
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(run_ids.pop()) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:
            event_ids = []
            for statement in statements:
                with db_result(conn, statement) as result:
                    event_ids.append(result.inserted_primary_key[0])
            if any(event_id is None for event_id in event_ids):
                raise dg.DagsterInvariantViolationError(
                    "Cannot store asset event tags for null event id."
                )
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in zip(events, event_ids, strict=True):
                self._store_asset_event(conn, event, event_id)

    store_event_batch._stock_pipeline = True  # type: ignore[attr-defined]
    SqliteEventLogStorage.store_event_batch = store_event_batch  # type: ignore[method-assign,assignment]
    return True
