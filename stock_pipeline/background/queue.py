"""Putting runs on the Dagster instance's run queue, for ``dagster-daemon`` to launch.

This is what ``dagster job launch -w workspace.yaml -j JOB --tags … --config-json …`` does,
without starting a code server: the code location named in ``workspace.yaml`` is loaded in
this process, each run is created with that location's origin (so the daemon, which loads
the same file, can launch it) and handed to the instance's run coordinator, which queues it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.defs import dagster_private

WORKSPACE_FILE = settings.PROJECT_DIR / "workspace.yaml"
REPOSITORY_NAME = "__repository__"  # the repository Dagster builds from a Definitions object


@dataclass(frozen=True)
class RunSpec:
    """One run to queue: the job, its run config and its tags (partitions included)."""

    job_name: str
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@contextmanager
def workspace_in_process(
    instance: dg.DagsterInstance, workspace_file: Path = WORKSPACE_FILE
) -> Iterator[Any]:
    """The code location of ``workspace.yaml``, loaded in this process.

    Yields the workspace request context; ``.get_code_location(name)`` gives the location.
    Loading it in-process is private Dagster API (``defs/dagster_private.py`` says why).
    """
    if not workspace_file.exists():
        raise FileNotFoundError(
            f"{workspace_file} not found: background syncs name their code location from the "
            f"project's workspace.yaml, the file dagster-daemon loads"
        )
    with dagster_private.workspace_in_process(instance, workspace_file) as workspace:
        yield workspace


def location_name(workspace: Any) -> str:
    """The one code location of a workspace from ``workspace_in_process``."""
    (name,) = workspace.code_location_names
    return str(name)


def enqueue_runs(instance: dg.DagsterInstance, specs: Sequence[RunSpec]) -> list[str]:
    """Create each run with the workspace's origin and submit it; returns the run ids.

    Mirrors ``_create_run`` then
    ``instance.submit_run`` of ``dagster job launch``. With the QueuedRunCoordinator the
    runs wait in the queue until the daemon launches them.
    """
    if not specs:
        return []
    run_ids = []
    with workspace_in_process(instance) as workspace:
        location = workspace.get_code_location(location_name(workspace))
        repository = location.get_repository(REPOSITORY_NAME)
        for spec in specs:
            remote_job = repository.get_full_job(spec.job_name)
            plan = location.get_execution_plan(
                remote_job,
                dict(spec.run_config),
                step_keys_to_execute=None,
                known_state=None,
                instance=instance,
            ).execution_plan_snapshot
            run = instance.create_run(
                job_name=remote_job.name,
                run_id=None,
                run_config=dict(spec.run_config),
                resolved_op_selection=remote_job.resolved_op_selection,
                step_keys_to_execute=plan.step_keys_to_execute,
                op_selection=None,
                status=None,
                root_run_id=None,
                parent_run_id=None,
                tags={**remote_job.tags, **spec.tags},
                job_snapshot=remote_job.job_snapshot,
                execution_plan_snapshot=plan,
                parent_job_snapshot=remote_job.parent_job_snapshot,
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
                asset_selection=None,
                asset_check_selection=None,
                asset_graph=repository.asset_graph,
            )
            run_ids.append(instance.submit_run(run.run_id, workspace).run_id)
    return run_ids
