"""The five states a background sync can be in, from Dagster's run statuses.

Dagster knows more states than a caller needs (NOT_STARTED, STARTING, CANCELING, …) and a
sync may be several runs; callers ask one question — is it waiting, working, or done and
how did it end — so each run maps to one of five states and a sync aggregates its runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import dagster as dg


class JobStatus(StrEnum):
    """Where a background sync stands; compares equal to its lowercase name."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


_BY_RUN_STATUS = {
    dg.DagsterRunStatus.NOT_STARTED: JobStatus.QUEUED,
    dg.DagsterRunStatus.QUEUED: JobStatus.QUEUED,
    dg.DagsterRunStatus.STARTING: JobStatus.RUNNING,
    dg.DagsterRunStatus.STARTED: JobStatus.RUNNING,
    dg.DagsterRunStatus.MANAGED: JobStatus.RUNNING,
    dg.DagsterRunStatus.SUSPENDED: JobStatus.RUNNING,  # in progress, paused by Dagster
    dg.DagsterRunStatus.CANCELING: JobStatus.RUNNING,  # not over until the run has stopped
    dg.DagsterRunStatus.SUCCESS: JobStatus.SUCCEEDED,
    dg.DagsterRunStatus.FAILURE: JobStatus.FAILED,
    dg.DagsterRunStatus.CANCELED: JobStatus.CANCELED,
}


def job_status(status: dg.DagsterRunStatus, will_retry: bool = False) -> JobStatus:
    """One run's state; a failed run the daemon is about to retry is still running."""
    if status == dg.DagsterRunStatus.FAILURE and will_retry:
        return JobStatus.RUNNING
    return _BY_RUN_STATUS[status]


def aggregate_status(statuses: Iterable[JobStatus]) -> JobStatus:
    """The state of a sync made of several runs.

    Queued only while no run has started; running while any run is unfinished; once all
    are finished, failed if any failed, else canceled if any was canceled, else succeeded.
    A sync with no runs (nothing left to fetch) has succeeded.
    """
    found = list(statuses)
    unfinished = [s for s in found if not s.finished]
    if unfinished:
        if all(s == JobStatus.QUEUED for s in found):
            return JobStatus.QUEUED
        return JobStatus.RUNNING
    if JobStatus.FAILED in found:
        return JobStatus.FAILED
    if JobStatus.CANCELED in found:
        return JobStatus.CANCELED
    return JobStatus.SUCCEEDED
