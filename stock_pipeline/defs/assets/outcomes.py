"""Reporting a batch honestly: per-partition metadata, partial success, named failures.

Dagster 1.13 has no per-partition result for a multi-partition step. When every partition
succeeded the frame goes to the IO manager; when some failed, the good ones are stored here
(same transactional write), each logged as its own materialization, and the step fails
naming the rest, so a backfill retries only those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from stock_pipeline import settings
from stock_pipeline.defs.assets.previews import bar_previews
from stock_pipeline.defs.dagster_private import (
    add_partition_metadata_at_once,
    mark_partitions_failed,
)
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.failures import all_transient
from stock_pipeline.domain.run_keys import FAILURE_DETAILS
from stock_pipeline.domain.verdicts import Verdict, partition_summary
from stock_pipeline.warehouse.tables import Table
from stock_pipeline.yahoo.batch import BatchResult, PartitionOutcome


def partition_metadata(outcome: PartitionOutcome, extra: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "rows": outcome.rows,
        "yahoo_requests": outcome.requests,
        "final": outcome.final,
        **extra,
    }
    if outcome.expected is not None:
        meta["bars_expected"] = outcome.expected
    if outcome.first_bar:
        meta["first_bar"] = outcome.first_bar
        meta["last_bar"] = outcome.last_bar or ""
    return meta


def add_partition_metadata(
    context: dg.AssetExecutionContext, by_key: Mapping[str, Mapping[str, Any]]
) -> None:
    """Metadata for each partition's materialization, the run's keys checked once.

    ``add_asset_metadata(partition_key=...)`` lists every partition of the run again on each
    call to check the key (Dagster 1.13): 50 ms a call at 500 partitions, so 25 s per
    500-partition run, growing with the square of its size (profiled in bench B2/B7). Here
    the keys are checked once and the metadata goes to the same accumulator that method
    fills (``dagster_private``); where that private attribute is missing, the public call
    is used.
    """
    unknown = set(by_key) - set(context.partition_keys)
    if unknown:
        raise dg.DagsterInvariantViolationError(
            f"metadata for partition(s) this run does not target: {sorted(unknown)[:5]}"
        )
    if add_partition_metadata_at_once(context, by_key):
        return
    for key, metadata in by_key.items():
        context.add_asset_metadata(metadata, partition_key=key)


def run_metadata(result: BatchResult) -> dict[str, Any]:
    """The run's totals; with the Yahoo rate (requests per second) its fetch ended at, which
    climbs while Yahoo answers and halves on a 429 (absent without a rate limit)."""
    meta: dict[str, Any] = {
        "run_partitions_stored": len(result.succeeded),
        "run_partitions_failed": len(result.failed),
        "run_rows": len(result.frame),
        "run_yahoo_requests": sum(result.requests.values()),
        "run_yahoo_price_requests": result.requests["chart"],
        "run_yahoo_requests_by_kind": dict(result.requests),
    }
    if result.rate_reached is not None:
        meta["run_yahoo_rate_reached"] = round(result.rate_reached, 2)
    return meta


def _verdicts(
    frame: pd.DataFrame,
    judge: Callable[[pd.DataFrame], Mapping[str, Mapping[str, Verdict]]] | None,
) -> dict[str, dict[str, str]]:
    """Per partition, its check verdicts as metadata entries (rows judged as written:
    ``fetched_at`` when each answer arrived, else now)."""
    if judge is None or frame.empty:
        return {}
    if "fetched_at" not in frame.columns:
        frame = frame.assign(fetched_at=pd.Timestamp(settings.now()))
    judged = judge(frame)
    return {key: partition_summary(by_check) for key, by_check in judged.items()}


def finish_batch(
    context: dg.AssetExecutionContext,
    result: BatchResult,
    table: Table,
    warehouse: WarehouseResource,
    extra: Mapping[str, Any],
    tags: Mapping[str, str],
    judge: Callable[[pd.DataFrame], Mapping[str, Mapping[str, Verdict]]] | None = None,
    notes: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Return the frame for the IO manager, or store the good part and fail the rest.

    ``judge`` gives each partition's check verdicts on the rows about to be written; they
    go into the partition's materialization metadata (the run's checks record one result
    per check, not one per partition), with ``notes`` per partition (short sessions).
    """
    notes = notes or {}
    totals = run_metadata(result)
    verdicts = _verdicts(result.frame, judge)
    rate = totals.get("run_yahoo_rate_reached")
    context.log.info(
        "%s: %d partition(s) fetched, %d failed, %d rows, %d Yahoo requests (%d for prices)%s",
        table.name,
        totals["run_partitions_stored"],
        totals["run_partitions_failed"],
        totals["run_rows"],
        totals["run_yahoo_requests"],
        totals["run_yahoo_price_requests"],
        f", Yahoo rate reached {rate:g}/s" if rate is not None else "",
    )
    previews = bar_previews(table, result.frame, result.succeeded, str(extra.get("interval", "")))
    if not result.failed:
        add_partition_metadata(
            context,
            {
                key: {
                    **partition_metadata(outcome, extra),
                    **verdicts.get(key, {}),
                    **notes.get(key, {}),
                    **previews.get(key, {}),
                }
                for key, outcome in result.outcomes.items()
            },
        )
        context.add_output_metadata(totals)
        return result.frame

    stored = 0
    if not result.frame.empty:
        try:
            # fetched_at: when each answer arrived, if the batch recorded it.
            stored = warehouse.write(
                table, result.frame, {"fetched_at": pd.Timestamp(settings.now())}
            )
        except Exception as exc:  # the figures of the fetch go with the failure
            raise dg.Failure(
                f"{type(exc).__name__}: {exc}", metadata=totals, allow_retries=False
            ) from exc
    for key in result.succeeded:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=key,
                tags=dict(tags),
                metadata={
                    **partition_metadata(result.outcomes[key], extra),
                    **verdicts.get(key, {}),
                    **notes.get(key, {}),
                    **previews.get(key, {}),
                },
            )
        )
    lines = [f"{key}: {reason}" for key, reason in sorted(result.failed.items())]
    for line in lines:
        context.log.error(line)
    # A step retry re-fetches everything: only worth it when nothing was stored and every
    # failure was transient (an outage). Otherwise the sensor re-fetches the rest.
    retry = not result.succeeded and all_transient(result.failures.values())
    if not retry:  # this failure is final: the partitions view shows them failed
        mark_partitions_failed(context, sorted(result.failed))
    raise dg.Failure(
        description=(
            f"{len(lines)} of {len(result.outcomes)} partition(s) failed; the other "
            f"{len(result.succeeded)} were stored ({stored} rows) and show as materialized.\n"
            + "\n".join(lines[:50])
        ),
        metadata={
            **totals,
            "failed_partitions": dg.MetadataValue.json(result.failed),
            FAILURE_DETAILS: dg.MetadataValue.json(
                {key: f.to_json() for key, f in result.failures.items()}
            ),
        },
        allow_retries=retry,
    )
