"""The executor of launched runs follows STOCK_PIPELINE_EXECUTOR; workers share its settings."""

import os
import subprocess
import sys

import dagster as dg
import pytest

from stock_pipeline.defs.executors import celery_worker_app, run_executor
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.settings.execution import (
    CELERY_BACKEND_ENV,
    CELERY_BROKER_ENV,
    DEFAULT_CELERY_URL,
    EXECUTOR_ENV,
)

BROKER = "redis://127.0.0.1:6379/7"
BACKEND = "redis://127.0.0.1:6379/8"


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (EXECUTOR_ENV, CELERY_BROKER_ENV, CELERY_BACKEND_ENV):
        monkeypatch.delenv(name, raising=False)


def test_runs_execute_in_process_by_default() -> None:
    assert run_executor() is dg.in_process_executor


def test_celery_runs_send_steps_to_the_configured_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    monkeypatch.setenv(CELERY_BROKER_ENV, BROKER)
    executor = run_executor()
    assert executor.name == "celery"
    resolved = executor.config_schema.resolve_config({})
    assert resolved.success
    assert resolved.value["config"]["broker"] == BROKER
    assert resolved.value["config"]["backend"] == DEFAULT_CELERY_URL


def test_a_worker_listens_where_the_executor_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CELERY_BROKER_ENV, BROKER)
    monkeypatch.setenv(CELERY_BACKEND_ENV, BACKEND)
    app = celery_worker_app()
    assert app.conf.broker_url == BROKER
    assert app.conf.result_backend == BACKEND
    assert "execute_plan" in app.tasks  # dagster_celery's step task
    assert [queue.name for queue in app.conf.task_queues] == ["dagster"]
    assert app.conf.worker_prefetch_multiplier == 1  # a busy worker holds no second step


def _definitions_executor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from stock_pipeline.definitions import defs; "
            "print({defs.resolve_job_def(j.name).executor_def.name for j in defs.jobs})",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_job_of_the_definitions_uses_the_chosen_executor() -> None:
    assert _definitions_executor({}).stdout.strip() == "{'in_process'}"
    celery = _definitions_executor({EXECUTOR_ENV: "celery"})
    assert celery.returncode == 0, celery.stderr
    assert celery.stdout.strip() == "{'celery'}"
    bad = _definitions_executor({EXECUTOR_ENV: "kubernetes"})
    assert bad.returncode != 0
    assert f"{EXECUTOR_ENV}='kubernetes' is not an executor" in bad.stderr
