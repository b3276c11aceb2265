"""STOCK_PIPELINE_EXECUTOR=celery for real: a daemon-launched run's steps on two Celery workers.

A real ``dagster-daemon`` launches the market-open run (quotes, then today's intraday bars
of a few days and symbols, and the bars' checks: four steps, two pairs that can run at
once) from its queue; the run hands each step to Redis, a database of the test's own, and
two ``celery`` workers (concurrency 1 each, separate processes) execute them against the
fake Yahoo and the warehouse the usual settings name. The daemon, its run process and the
workers all read the same environment, as they would from the deployment's env file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from stock_pipeline.background.queue import RunSpec, enqueue_runs
from stock_pipeline.defs.run_requests import intraday_run_config
from stock_pipeline.domain.run_keys import (
    INTERVAL_TAG,
    ORIGIN_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
)
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.settings.execution import (
    CELERY_BACKEND_ENV,
    CELERY_BROKER_ENV,
    EXECUTOR_ENV,
)
from stock_pipeline.warehouse.lake import Lake, forget_shared
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.celery_workers import (
    REDIS_HOST,
    REDIS_PORT,
    celery_workers,
    redis_test_database,
)
from stock_pipeline_tests.support.dagster_processes import dagster_daemon, wait_for
from stock_pipeline_tests.support.postgres import postgres_catalog

pytestmark = pytest.mark.integration

WORKERS = ("w1", "w2")
SYMBOLS = ["AAPL", "MSFT"]
FIRST, LAST = "2026-11-23", "2026-11-25"
STEPS = {"current_prices", "intraday_prices", "intraday_prices_checks", "intraday_prices_fresh"}
RUN_SECONDS = 300
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
DELEGATED = "in celery worker"  # dagster_celery's engine event as a worker takes a step


def _worker_of_each_step(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """Step key -> the Celery worker names that reported taking it (dagster_celery's
    "Executing steps … in celery worker" event, written by the worker itself)."""
    taken: dict[str, list[str]] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        if event is None or DELEGATED not in (event.message or ""):
            continue
        metadata: Mapping[str, Any] = event.engine_event_data.metadata
        worker = metadata["Celery worker"].value
        taken.setdefault(str(event.step_key), []).append(str(worker).split("@", 1)[0])
    return taken


def _step_start_pids(instance: dg.DagsterInstance, run_id: str) -> dict[str, int]:
    starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    return {
        str(e.dagster_event.step_key): int(e.dagster_event.pid)
        for e in starts
        if e.dagster_event is not None and e.dagster_event.pid is not None
    }


def test_a_launched_runs_steps_are_shared_by_two_celery_workers(
    fake_yahoo: FakeYahoo, isolated_paths: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    with redis_test_database() as db, postgres_catalog() as catalog:
        url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
        # One environment for this process (it plans the run), the daemon and the workers;
        # the warehouse is a lake on a PostgreSQL catalog with a shared data path, as workers
        # on several machines would share it.
        env = {
            EXECUTOR_ENV: "celery",
            CELERY_BROKER_ENV: url,
            CELERY_BACKEND_ENV: url,
            "DAGSTER_HOME": str(home),
            "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url,
            "STOCK_PIPELINE_WAREHOUSE": catalog,
            "STOCK_PIPELINE_WAREHOUSE_DATA": str(tmp_path / "shared-parquet"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with (
            dagster_daemon(home, env) as daemon,
            celery_workers(WORKERS, env, tmp_path / "logs") as workers,
            dg.DagsterInstance.from_config(str(home)) as instance,
        ):
            instance.add_dynamic_partitions("symbols", SYMBOLS)
            spec = RunSpec(
                "market_open_job",
                run_config=intraday_run_config("5m"),
                tags={
                    RANGE_START_TAG: f"{FIRST}|{SYMBOLS[0]}",
                    RANGE_END_TAG: f"{LAST}|{SYMBOLS[-1]}",
                    INTERVAL_TAG: "5m",
                    ORIGIN_TAG: "test",
                },
            )
            (run_id,) = enqueue_runs(instance, [spec])

            def finished() -> dg.DagsterRun | None:
                daemon.check_alive()
                workers.check_alive()
                run = instance.get_run_by_id(run_id)
                return run if run is not None and run.status in FINISHED else None

            try:
                run = wait_for(f"run {run_id} to finish", finished, RUN_SECONDS, every=1.0)
            except (TimeoutError, RuntimeError) as exc:
                log = daemon.logs["daemon"].read_text(errors="replace")[-4000:]
                pytest.fail(f"{exc}\n--- daemon ---\n{log}\n{workers.log_tails()}")
            pools = workers.pool_pids()  # while the workers still run
            taken = _worker_of_each_step(instance, run_id)
            started = _step_start_pids(instance, run_id)
            failure = [
                e.user_message
                for e in instance.all_logs(run_id)
                if e.dagster_event is not None and e.dagster_event.is_failure
            ]
            lake = Lake.from_settings()
            with connect(lake, read_only=True) as con:
                bars = con.execute(
                    "SELECT session_date::VARCHAR || '|' || symbol, count(*), "
                    "count(DISTINCT ts) FROM intraday_prices WHERE interval = '5m' GROUP BY ALL"
                ).fetchall()
                quotes = con.execute(
                    "SELECT count(*), count(DISTINCT symbol), min(price) FROM current_prices"
                ).fetchone()
            forget_shared(lake)  # before the catalog's database is dropped

    assert run.status == dg.DagsterRunStatus.SUCCESS, failure
    # Every step was taken once, by a named worker, and both workers took some.
    assert set(taken) == STEPS, taken
    assert all(len(names) == 1 for names in taken.values()), taken
    assert {names[0] for names in taken.values()} == set(WORKERS), taken
    # Each step ran in a pool process of the worker that reported taking it.
    assert set(started) == STEPS, started
    assert {step: pools.get(pid) for step, pid in started.items()} == {
        step: names[0] for step, names in taken.items()
    }, (started, pools)

    stored = {str(key): (int(n), int(distinct)) for key, n, distinct in bars}
    assert sorted(stored) == sorted(
        f"{day}|{symbol}" for day in (FIRST, "2026-11-24", LAST) for symbol in SYMBOLS
    )
    assert all(n == distinct and 70 < n <= 78 for n, distinct in stored.values()), stored
    assert quotes is not None and quotes[:2] == (len(SYMBOLS), len(SYMBOLS)) and quotes[2] > 0
