"""Simple numbers about the runs (the seed's ``inspect().stats()``).

Per New York day: runs, how they ended, rows stored, Yahoo requests spent; over the whole
window: the failure rate. Read from run records and each finished run's event log (the
same reading as a handle's result), over runs created in the last few days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from stock_pipeline.background.handle import requests_spent
from stock_pipeline.background.status import JobStatus, job_status
from stock_pipeline.domain.trading_calendar import NEW_YORK
from stock_pipeline.services.run_report import read_run_report


def utc(moment: datetime) -> datetime:
    """Run storage may hand back naive UTC datetimes (SQLite); make them aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class RunFact:
    """What stats need of one run."""

    created: datetime
    status: JobStatus
    rows: int = 0
    requests: int = 0


@dataclass
class DayStats:
    day: date  # New York date the runs were created
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    unfinished: int = 0
    rows: int = 0
    requests: int = 0


@dataclass
class Stats:
    since: datetime
    days: list[DayStats] = field(default_factory=list)  # oldest first, only days with runs

    @property
    def runs(self) -> int:
        return sum(d.runs for d in self.days)

    @property
    def failed(self) -> int:
        return sum(d.failed for d in self.days)

    @property
    def finished(self) -> int:
        return sum(d.succeeded + d.failed + d.canceled for d in self.days)

    @property
    def failure_rate(self) -> float:
        """Failed runs over finished runs (0.0 when none finished)."""
        return self.failed / self.finished if self.finished else 0.0

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.days)

    @property
    def requests(self) -> int:
        return sum(d.requests for d in self.days)


def summarize(facts: Iterable[RunFact], since: datetime) -> Stats:
    by_day: dict[date, DayStats] = {}
    for fact in facts:
        day = fact.created.astimezone(NEW_YORK).date()
        entry = by_day.setdefault(day, DayStats(day))
        entry.runs += 1
        entry.rows += fact.rows
        entry.requests += fact.requests
        if fact.status == JobStatus.SUCCEEDED:
            entry.succeeded += 1
        elif fact.status == JobStatus.FAILED:
            entry.failed += 1
        elif fact.status == JobStatus.CANCELED:
            entry.canceled += 1
        else:
            entry.unfinished += 1
    return Stats(since=since, days=[by_day[d] for d in sorted(by_day)])


def collect_stats(
    instance: dg.DagsterInstance, days: int = 7, now: datetime | None = None
) -> Stats:
    """Stats of the runs created in the last ``days`` days.

    Run records carry the real clock, so the window ends at the real ``now`` (never the
    pinned STOCK_PIPELINE_NOW, which only steers market data).
    """
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    facts = []
    for record in instance.get_run_records(filters=dg.RunsFilter(created_after=since)):
        run = record.dagster_run
        status = job_status(run.status)
        rows = requests = 0
        if status.finished:
            report = read_run_report(instance, run.run_id)
            rows, requests = report.rows, requests_spent(report)
        facts.append(RunFact(utc(record.create_timestamp), status, rows, requests))
    return summarize(facts, since)
