"""Runs executed inside a command-line process, and what becomes of them if it dies.

A foreground sync runs its Dagster runs in the ``stock-pipeline`` process itself
(``execute_in_process``). If that process is killed (``kill -9``, OOM, a closed terminal)
nothing tells the instance: the run stays "started" (or "queued"/not started) forever, and
Dagster's run monitoring cannot help, since no launcher owns the process. So each such
run carries its owner (pid, the process's start time, host) in its tags, and every
command that opens the instance first reconciles: a run whose owner is gone is marked
failed with the reason, and one that never started is canceled, so it cannot launch later.
The daemon never re-launches these runs (``dagster/max_retries`` 0: only their process
could run them) nor applies its run-time limit to them (``dagster/max_runtime`` 0).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

PID_TAG = "stock_pipeline/owner_pid"
PID_START_TAG = "stock_pipeline/owner_start"
HOST_TAG = "stock_pipeline/owner_host"
MAX_RETRIES_TAG = "dagster/max_retries"
MAX_RUNTIME_TAG = "dagster/max_runtime"

_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_NEVER_STARTED = {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED}


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process (clock ticks since boot): tells a pid's reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command (field 2) may hold spaces, so count after its closing paren.
    return stat.rpartition(")")[2].split()[19]


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the owner of the runs it executes in process."""
    tags = {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        MAX_RETRIES_TAG: "0",
        MAX_RUNTIME_TAG: "0",  # the daemon's max_runtime is for runs it launched
    }
    start = process_start(os.getpid())
    if start is not None:
        tags[PID_START_TAG] = start
    return tags


def owner_alive(tags: dict[str, str]) -> bool:
    """Whether the process named by a run's owner tags still runs (this host only)."""
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return True  # not ours to judge
    if not os.path.exists(f"/proc/{pid}"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    start = tags.get(PID_START_TAG)
    return start is None or process_start(pid) in (start, None)


@dataclass(frozen=True)
class Reconciled:
    run_id: str
    was: str  # Dagster status before
    now: str  # FAILURE or CANCELED
    owner: str  # "pid 123 on host"


def _owner(tags: dict[str, str]) -> str:
    return f"pid {tags.get(PID_TAG, '?')} on {tags.get(HOST_TAG, '?')}"


def end_runs(
    instance: dg.DagsterInstance, runs: list[dg.DagsterRun], reason: str
) -> list[Reconciled]:
    """Mark unfinished runs failed (or canceled if they never started), saying why."""
    done = []
    for run in runs:
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status not in _UNFINISHED:
            continue  # finished meanwhile
        tags = dict(current.tags)
        if current.status in _NEVER_STARTED:
            instance.report_run_canceled(current, f"{reason}; canceled so it never launches")
            now = "CANCELED"
        else:
            instance.report_run_failed(current, reason)
            now = "FAILURE"
        done.append(Reconciled(current.run_id, current.status.value, now, _owner(tags)))
    return done


def unfinished_runs_of(instance: dg.DagsterInstance, pid: int) -> list[dg.DagsterRun]:
    """This host's unfinished runs owned by process ``pid``."""
    return list(
        instance.get_runs(
            filters=dg.RunsFilter(
                statuses=_UNFINISHED,
                tags={PID_TAG: str(pid), HOST_TAG: socket.gethostname()},
            )
        )
    )


def reconcile_orphans(instance: dg.DagsterInstance) -> list[Reconciled]:
    """End the runs left unfinished by a command-line process of this host that is gone."""
    host = socket.gethostname()
    orphans = [
        run
        for run in instance.get_runs(
            filters=dg.RunsFilter(statuses=_UNFINISHED, tags={HOST_TAG: host})
        )
        if run.tags.get(PID_TAG) != str(os.getpid()) and not owner_alive(dict(run.tags))
    ]
    results: list[Reconciled] = []
    for run in orphans:
        reason = (
            f"the stock-pipeline process that ran it ({_owner(dict(run.tags))}) is gone "
            f"(killed or crashed); found by pid {os.getpid()}. A write is all or nothing: "
            f"what the run had not committed was not stored; sync again to fetch the rest"
        )
        results.extend(end_runs(instance, [run], reason))
    return results
