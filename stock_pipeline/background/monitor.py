"""Looking at the run queue: active, queued and failed runs (the seed's ``inspect()``).

``inspect().active()`` / ``.queued()`` / ``.failed()`` list runs from the instance's run
storage; ``.scheduled()`` previews each schedule's next ticks; ``.stats()`` counts runs,
rows and Yahoo requests per day. Nothing here changes the instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import dagster as dg

from stock_pipeline.background import daemon
from stock_pipeline.background.handle import WILL_RETRY_TAG
from stock_pipeline.background.schedule_view import ScheduleView, schedule_views
from stock_pipeline.background.stats import Stats, collect_stats, utc
from stock_pipeline.background.status import JobStatus, job_status
from stock_pipeline.domain.run_keys import (
    INTERVAL_TAG,
    ORIGIN_TAG,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
)

RunKind = Literal["all", "active", "queued", "failed"]
STATUSES: dict[RunKind, list[dg.DagsterRunStatus] | None] = {
    "all": None,
    "active": [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.SUSPENDED,
        dg.DagsterRunStatus.CANCELING,
    ],
    "queued": [dg.DagsterRunStatus.QUEUED],
    "failed": [dg.DagsterRunStatus.FAILURE],
}


def _when(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


@dataclass(frozen=True)
class RunSummary:
    """One run as the queue shows it: what it covers, where it stands, when."""

    run_id: str
    job: str
    status: JobStatus
    dagster_status: str
    partitions: str | None  # one key, "first…last", or None (unpartitioned)
    origin: str | None  # background, cli, schedule, sensor…
    interval: str | None
    created: datetime
    started: datetime | None
    ended: datetime | None

    @property
    def seconds(self) -> float | None:
        """Run time so far (or in all, once ended)."""
        if self.started is None:
            return None
        return ((self.ended or datetime.now(UTC)) - self.started).total_seconds()

    @classmethod
    def from_record(cls, record: dg.RunRecord) -> RunSummary:
        run = record.dagster_run
        tags = run.tags
        if PARTITION_TAG in tags:
            partitions: str | None = tags[PARTITION_TAG]
        elif RANGE_START_TAG in tags:
            partitions = f"{tags[RANGE_START_TAG]}…{tags.get(RANGE_END_TAG, '')}"
        else:
            partitions = None
        return cls(
            run_id=run.run_id,
            job=run.job_name,
            status=job_status(run.status, tags.get(WILL_RETRY_TAG) == "true"),
            dagster_status=run.status.value,
            partitions=partitions,
            origin=tags.get(ORIGIN_TAG),
            interval=tags.get(INTERVAL_TAG),
            created=utc(record.create_timestamp),
            started=_when(record.start_time),
            ended=_when(record.end_time),
        )


def list_runs(
    instance: dg.DagsterInstance, kind: RunKind = "all", limit: int = 20
) -> list[RunSummary]:
    """The most recent runs of a kind, newest first."""
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=STATUSES[kind]), limit=limit)
    return [RunSummary.from_record(r) for r in records]


def find_run_id(instance: dg.DagsterInstance, prefix: str, search: int = 1000) -> str:
    """A full run id from an id or a unique prefix of one (as ``runs`` prints them)."""
    if instance.get_run_by_id(prefix) is not None:
        return prefix
    matches = [r for r in instance.get_run_ids(limit=search) if r.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise KeyError(f"no run {prefix!r} on this Dagster instance")
    raise KeyError(f"{prefix!r} matches {len(matches)} runs; give more of the id")


class Inspector:
    """The seed's ``current_app.control.inspect()``, on the Dagster instance."""

    def __init__(self, instance: dg.DagsterInstance | None = None) -> None:
        if instance is None:
            from stock_pipeline.services.instance import get_instance

            instance = get_instance()
        self.instance = instance

    def active(self, limit: int = 50) -> list[RunSummary]:
        """Runs launched and not finished."""
        return list_runs(self.instance, "active", limit)

    def queued(self, limit: int = 50) -> list[RunSummary]:
        """Runs waiting for the daemon (or for a free slot)."""
        return list_runs(self.instance, "queued", limit)

    def failed(self, limit: int = 20) -> list[RunSummary]:
        """The most recent failed runs."""
        return list_runs(self.instance, "failed", limit)

    def scheduled(
        self, ticks: int = 3, now: datetime | None = None, defs: dg.Definitions | None = None
    ) -> Sequence[ScheduleView]:
        """Each schedule, on or off, with its next ticks and what each would do."""
        return schedule_views(self.instance, ticks=ticks, now=now, defs=defs)

    def stats(self, days: int = 7) -> Stats:
        """Runs, rows and Yahoo requests per day over the last ``days`` days."""
        return collect_stats(self.instance, days=days)

    def daemon_running(self) -> bool:
        return daemon.daemon_running(self.instance)


def inspect(instance: dg.DagsterInstance | None = None) -> Inspector:
    return Inspector(instance)
