"""Dagster's run statuses as the five states of a background sync, and their aggregation."""

import dagster as dg
import pytest

from stock_pipeline.background.status import JobStatus, aggregate_status, job_status

Q, R, S, F, C = (
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELED,
)


@pytest.mark.parametrize(
    ("run_status", "expected"),
    [
        (dg.DagsterRunStatus.NOT_STARTED, Q),
        (dg.DagsterRunStatus.QUEUED, Q),
        (dg.DagsterRunStatus.STARTING, R),
        (dg.DagsterRunStatus.STARTED, R),
        (dg.DagsterRunStatus.SUSPENDED, R),
        (dg.DagsterRunStatus.CANCELING, R),
        (dg.DagsterRunStatus.SUCCESS, S),
        (dg.DagsterRunStatus.FAILURE, F),
        (dg.DagsterRunStatus.CANCELED, C),
    ],
)
def test_each_dagster_status_maps_to_one_state(
    run_status: dg.DagsterRunStatus, expected: JobStatus
) -> None:
    assert job_status(run_status) == expected


def test_every_dagster_status_is_mapped() -> None:
    assert {job_status(s) for s in dg.DagsterRunStatus} == set(JobStatus)


def test_a_failed_run_about_to_be_retried_is_still_running() -> None:
    assert job_status(dg.DagsterRunStatus.FAILURE, will_retry=True) == R
    assert job_status(dg.DagsterRunStatus.SUCCESS, will_retry=True) == S


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([], S),  # nothing left to fetch
        ([Q], Q),
        ([Q, Q], Q),
        ([Q, R], R),
        ([S, Q], R),  # under way: one finished, one waiting
        ([F, Q], R),  # not over while a run is still to come
        ([S, S], S),
        ([S, F], F),
        ([S, C], C),
        ([F, C], F),  # a failure outranks a cancellation
    ],
)
def test_a_sync_of_several_runs_aggregates(runs: list[JobStatus], expected: JobStatus) -> None:
    assert aggregate_status(runs) == expected


def test_states_compare_equal_to_their_names() -> None:
    assert JobStatus.SUCCEEDED == "succeeded"
    assert [s.finished for s in (Q, R, S, F, C)] == [False, False, True, True, True]
