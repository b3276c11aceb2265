"""The handle a background sync returns at once: its runs, status, wait and result.

The seed's ``AsyncResult``: ``handle.status``, ``handle.result``, ``handle.wait(timeout)``.
Everything is read back from the Dagster instance, so a handle rebuilt from run ids in
another process (``SyncHandle.from_run_ids``) knows as much as the one submit returned.
A run the daemon retries (``run_retries`` in dagster.yaml) is followed to its last attempt.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from stock_pipeline.background import daemon
from stock_pipeline.background.status import JobStatus, aggregate_status, job_status
from stock_pipeline.domain.partition_keys import symbol_of
from stock_pipeline.domain.progress import RunProgress, SyncProgress, combine
from stock_pipeline.domain.run_keys import ROOT_RUN_ID_TAG, WILL_RETRY_TAG
from stock_pipeline.services.run_progress import read_progress
from stock_pipeline.services.run_report import PartitionReport, RunReport, read_run_report

DEFAULT_POLL_SECONDS = 1.0


def requests_spent(report: RunReport) -> int:
    """Yahoo requests of a run: the run total when the asset reports one (price assets),
    else the sum over what it stored (current_prices reports its requests per output)."""
    return report.requests or sum(p.requests for p in report.stored.values())


@dataclass
class SymbolResult:
    symbol: str
    rows: int = 0
    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class SyncResult:
    """What a finished sync did, over all its runs."""

    status: JobStatus
    reports: list[RunReport]  # one per submitted run, its retries merged in
    skipped: list[str] = field(default_factory=list)  # complete already, not fetched

    @property
    def partitions(self) -> dict[str, PartitionReport]:
        """Stored partitions: rows written and Yahoo chart requests of the window per key."""
        return {k: p for r in self.reports for k, p in r.stored.items()}

    @property
    def failed(self) -> dict[str, str]:
        """Partitions that were not stored, with the reason ("ErrorType: message")."""
        return {k: reason for r in self.reports for k, reason in r.failed.items()}

    @property
    def errors(self) -> dict[str, str]:
        """Run id → failure message, for failed runs that named no partition (a crash…)."""
        return {
            r.run_id: r.failure or r.status
            for r in self.reports
            if r.status != "SUCCESS" and not r.failed
        }

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.reports)

    @property
    def requests(self) -> int:
        """Yahoo requests spent by the runs, every kind (cookie, crumb, chart, quote)."""
        return sum(requests_spent(r) for r in self.reports)

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.SUCCEEDED

    def by_symbol(self) -> dict[str, SymbolResult]:
        symbols: dict[str, SymbolResult] = {}
        for key, part in sorted(self.partitions.items()):
            entry = symbols.setdefault(symbol_of(key) or key, SymbolResult(symbol_of(key) or key))
            entry.rows += part.rows
            entry.stored.append(key)
        for key, reason in sorted(self.failed.items()):
            entry = symbols.setdefault(symbol_of(key) or key, SymbolResult(symbol_of(key) or key))
            entry.failed[key] = reason
        return symbols

    def summary(self) -> str:
        lines = [
            f"{self.status}: {len(self.partitions)} partition(s) stored, {len(self.failed)} "
            f"failed, {len(self.skipped)} skipped (complete), {self.rows} rows, "
            f"{self.requests} Yahoo requests, {len(self.reports)} run(s)"
        ]
        lines += [f"  failed {key}: {reason}" for key, reason in sorted(self.failed.items())]
        lines += [
            f"  run {run_id} failed: {message.splitlines()[0] if message else ''}"
            for run_id, message in self.errors.items()
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def attempts(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterRun]:
    """A run and the daemon's retries of it, oldest first."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise KeyError(f"no run {run_id} on this Dagster instance")
    if run.status != dg.DagsterRunStatus.FAILURE:
        return [run]
    root = run.root_run_id or run.run_id
    retries = instance.get_runs(filters=dg.RunsFilter(tags={ROOT_RUN_ID_TAG: root}))
    later = [r for r in reversed(retries) if r.run_id != run.run_id]
    return [run, *later]


def run_status(run: dg.DagsterRun) -> JobStatus:
    return job_status(run.status, will_retry=run.tags.get(WILL_RETRY_TAG) == "true")


def merged_report(instance: dg.DagsterInstance, runs: Sequence[dg.DagsterRun]) -> RunReport:
    """One report for a run and its retries: the last attempt's, plus what earlier stored."""
    reports = [read_run_report(instance, r.run_id) for r in runs]
    merged = reports[-1]
    for earlier in reports[:-1]:
        for key, part in earlier.stored.items():
            merged.stored.setdefault(key, part)
        merged.requests += earlier.requests
        merged.price_requests += earlier.price_requests
    for key in list(merged.failed):
        if key in merged.stored:
            del merged.failed[key]
    merged.run_id = runs[0].run_id
    return merged


class SyncHandle:
    """A submitted sync: the Dagster runs it became, and how they are doing."""

    def __init__(
        self,
        run_ids: Iterable[str],
        instance: dg.DagsterInstance,
        skipped: Iterable[str] = (),
    ) -> None:
        self.run_ids: tuple[str, ...] = tuple(run_ids)
        self.instance = instance
        self.skipped: list[str] = list(skipped)

    @classmethod
    def from_run_ids(
        cls, run_ids: Iterable[str], instance: dg.DagsterInstance | None = None
    ) -> SyncHandle:
        """A handle for runs submitted earlier (the seed's ``AsyncResult(task_id)``)."""
        if instance is None:
            from stock_pipeline.services.instance import get_instance

            instance = get_instance()
        return cls(run_ids, instance)

    @property
    def run_id(self) -> str | None:
        """The first run's id (a sync of one run has just this one)."""
        return self.run_ids[0] if self.run_ids else None

    def statuses(self) -> dict[str, JobStatus]:
        """Each submitted run's state, following retries to the last attempt."""
        return {run_id: run_status(attempts(self.instance, run_id)[-1]) for run_id in self.run_ids}

    @property
    def status(self) -> JobStatus:
        return aggregate_status(self.statuses().values())

    def ready(self) -> bool:
        """True once every run has finished (succeeded, failed or canceled)."""
        return self.status.finished

    @property
    def result(self) -> SyncResult | None:
        """What the sync did, once finished; None while any run is queued or running."""
        status = self.status
        if not status.finished:
            return None
        reports = [merged_report(self.instance, attempts(self.instance, r)) for r in self.run_ids]
        return SyncResult(status=status, reports=reports, skipped=self.skipped)

    def wait(
        self, timeout: float | None = 600.0, poll_interval: float = DEFAULT_POLL_SECONDS
    ) -> SyncResult:
        """Block until every run has finished and return the result.

        Raises TimeoutError after ``timeout`` seconds (None: wait forever), saying when
        the runs are queued because no dagster-daemon is running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            result = self.result
            if result is not None:
                return result
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(timeout))
            time.sleep(poll_interval)

    def progress(self) -> SyncProgress:
        """The figures so far over the sync's runs: partitions and symbols done of the
        total, rows, Yahoo requests, failures, rate and ETA (bounded by the rate limit).

        Read from the runs' progress files (published by each run as it fetches, at most
        twice a second), not from Dagster's event log; a retried run is followed to its
        last attempt. A run that never published (queued without a plan, or failed before
        fetching) counts with zero totals.
        """
        runs: list[RunProgress] = []
        finished = 0
        for run_id in self.run_ids:
            latest = attempts(self.instance, run_id)[-1]
            finished += run_status(latest).finished
            found = read_progress(latest.run_id) or read_progress(run_id)
            runs.append(found or RunProgress(run_id=latest.run_id))
        done = finished == len(self.run_ids)
        return combine(runs, time.time(), finished, len(self.run_ids), done)

    def cancel(self) -> list[str]:
        """Cancel the runs not finished yet (dequeue, or terminate); returns their ids."""
        canceled = []
        for run_id, status in self.statuses().items():
            if not status.finished:
                latest = attempts(self.instance, run_id)[-1]
                self.instance.run_coordinator.cancel_run(latest.run_id)
                canceled.append(run_id)
        return canceled

    def _timeout_message(self, timeout: float | None) -> str:
        statuses = self.statuses()
        message = f"sync not finished after {timeout}s: " + ", ".join(
            f"{run_id} {status}" for run_id, status in statuses.items()
        )
        queued = any(s == JobStatus.QUEUED for s in statuses.values())
        if queued and not daemon.daemon_running(self.instance):
            message += f". {daemon.not_running_message(self.instance)}"
        return message

    def __repr__(self) -> str:
        return f"SyncHandle(run_ids={list(self.run_ids)!r})"
