"""What a run did, read back from the Dagster event log: stored, failed, requests spent.

Used by the command line after a foreground sync and by background-job handles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster import DagsterEventType

from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.domain.run_keys import FAILURE_DETAILS


@dataclass
class PartitionReport:
    key: str
    rows: int
    requests: int
    interval: str | None


@dataclass
class RunReport:
    run_id: str
    status: str
    stored: dict[str, PartitionReport] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # key -> reason, as people read it
    failures: dict[str, PartitionFailure] = field(default_factory=dict)  # the same, as data
    failure: str | None = None  # the step/run failure message, if any
    requests: int = 0  # Yahoo requests the run spent, all kinds
    price_requests: int = 0  # of which chart requests for bars

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.stored.values())

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS" and not self.failed


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def read_run_report(instance: dg.DagsterInstance, run_id: str) -> RunReport:
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise KeyError(f"no run {run_id} on this Dagster instance")
    report = RunReport(run_id=run_id, status=run.status.value)
    for record in instance.all_logs(
        run_id,
        of_type={
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.RUN_FAILURE,
        },
    ):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.step_materialization_data.materialization
            meta = {k: _value(v) for k, v in mat.metadata.items()}
            key = mat.partition or mat.asset_key.to_user_string()
            report.requests = max(report.requests, int(meta.get("run_yahoo_requests", 0)))
            report.price_requests = max(
                report.price_requests, int(meta.get("run_yahoo_price_requests", 0))
            )
            report.stored[key] = PartitionReport(
                key=key,
                rows=int(meta.get("rows", meta.get("rows_written", 0)) or 0),
                requests=int(meta.get("yahoo_requests", 0) or 0),
                interval=meta.get("interval"),
            )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data
            if user is not None:
                report.failure = user.description
                meta = {k: _value(v) for k, v in user.metadata.items()}
                report.requests = max(report.requests, int(meta.get("run_yahoo_requests", 0)))
                report.price_requests = max(
                    report.price_requests, int(meta.get("run_yahoo_price_requests", 0))
                )
                failed = user.metadata.get("failed_partitions")
                if failed is not None:
                    report.failed.update(_decode(_value(failed)))
                details = user.metadata.get(FAILURE_DETAILS)
                if details is not None:
                    report.failures.update(_decode_failures(_value(details)))
            elif data.error is not None:
                report.failure = data.error.message.strip()
        elif report.failure is None:
            report.failure = event.message
    return report


def _decode_failures(value: Any) -> dict[str, PartitionFailure]:
    if isinstance(value, str):
        value = json.loads(value)
    return {str(k): PartitionFailure.from_json(v) for k, v in dict(value).items()}


def _decode(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = json.loads(value)
    return {str(k): str(v) for k, v in dict(value).items()}
