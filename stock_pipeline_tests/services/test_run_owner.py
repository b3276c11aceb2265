"""Runs owned by a command-line process: reconciled once that process is gone."""

from __future__ import annotations

import os
import subprocess
import uuid

import dagster as dg
import pytest

from stock_pipeline.services.run_owner import (
    HOST_TAG,
    PID_START_TAG,
    PID_TAG,
    owner_alive,
    owner_tags,
    reconcile_orphans,
)


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def add_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict[str, str]) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(
        dg.DagsterRun(job_name="intraday_prices_job", run_id=run_id, status=status, tags=tags)
    )
    return run_id


def test_this_process_is_alive_and_a_finished_one_is_not() -> None:
    tags = owner_tags()
    assert tags[PID_TAG] == str(os.getpid()) and tags["dagster/max_retries"] == "0"
    assert owner_alive(tags)
    assert not owner_alive({**tags, PID_TAG: str(dead_pid())})
    # The same pid started at another time is another process (pid reuse).
    assert not owner_alive({**tags, PID_START_TAG: "1"})
    assert owner_alive({"unrelated": "tag"})  # not ours to judge


@pytest.mark.parametrize(
    ("status", "ends_as"),
    [
        (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.FAILURE),
        (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.FAILURE),
        (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELED),
    ],
)
def test_a_run_of_a_dead_process_is_ended_with_the_reason(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus, ends_as: dg.DagsterRunStatus
) -> None:
    pid = dead_pid()
    orphan = add_run(instance, status, {**owner_tags(), PID_TAG: str(pid)})
    mine = add_run(instance, status, owner_tags())
    other_host = add_run(
        instance, status, {**owner_tags(), PID_TAG: str(pid), HOST_TAG: "elsewhere"}
    )
    daemon_queued = add_run(instance, status, {})

    (ended,) = reconcile_orphans(instance)
    assert (ended.run_id, ended.was, ended.now) == (orphan, status.value, ends_as.value)
    assert ended.owner.startswith(f"pid {pid} on ")
    assert instance.get_run_by_id(orphan).status == ends_as  # type: ignore[union-attr]
    for untouched in (mine, other_host, daemon_queued):
        assert instance.get_run_by_id(untouched).status == status  # type: ignore[union-attr]
    assert reconcile_orphans(instance) == []
