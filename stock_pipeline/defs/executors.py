"""The executor of launched runs, chosen by ``STOCK_PIPELINE_EXECUTOR`` (``settings.execution``).

- ``in_process`` (default): a run's steps share the run's process, no process start per step.
- ``celery``: each step is a Celery task on ``STOCK_PIPELINE_CELERY_BROKER``, executed by
  whichever worker takes it (``celery -A stock_pipeline.defs.celery_worker worker``), the
  seed's Celery + Redis under Dagster. The run's own process only hands steps out and
  collects their results through ``STOCK_PIPELINE_CELERY_BACKEND``.

Both sides build their Celery app here, from the same settings, so the executor and the
workers cannot disagree about the broker, the backend or the queue. The choice is read when
the code location is loaded: by the daemon's code server and each run process it starts,
and by the webserver; a bad value makes the location fail to load with the setting's name.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from stock_pipeline.settings import execution


def _celery_app_args(celery: execution.CelerySettings) -> dict[str, Any]:
    """What ``dagster_celery`` passes to ``Celery()`` for an executor with these settings."""
    from dagster_celery.executor import CeleryExecutor

    return dict(CeleryExecutor.for_cli(broker=celery.broker, backend=celery.backend).app_args())


def run_executor() -> dg.ExecutorDefinition:
    """The Definitions' executor for the current ``STOCK_PIPELINE_EXECUTOR``."""
    if execution.executor_kind() is execution.ExecutorKind.CELERY:
        from dagster_celery import celery_executor

        celery = execution.celery_settings()
        return celery_executor.configured(
            {"broker": celery.broker, "backend": celery.backend}, name="celery"
        )
    return dg.in_process_executor


def celery_worker_app() -> Any:
    """The Celery app a worker runs: ``dagster_celery``'s step task, on the broker and
    backend of ``STOCK_PIPELINE_CELERY_BROKER`` / ``_BACKEND``, consuming the queue the
    executor sends steps to (``dagster``)."""
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    app = make_app(_celery_app_args(execution.celery_settings()))
    create_task(app)
    return app
