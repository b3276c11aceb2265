"""Retries and concurrency: the policy on fetching steps, the Yahoo pool, parallel runs."""

from __future__ import annotations

import multiprocessing
import shutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.assets.reference import current_prices, stocks
from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline_tests.support.pipeline import Pipeline
from stock_pipeline_tests.support.processes import sync_range

FETCHING = [intraday_prices, daily_prices, stocks, current_prices]


@pytest.mark.parametrize("asset", FETCHING, ids=lambda a: a.key.to_user_string())
def test_fetching_steps_share_the_yahoo_pool_and_retry_with_backoff_and_jitter(
    asset: dg.AssetsDefinition,
) -> None:
    assert asset.op.pool == YAHOO_POOL
    policy = asset.op.retry_policy
    assert policy == FETCH_RETRY_POLICY
    assert policy is not None and policy.max_retries == 3
    assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter == dg.Jitter.PLUS_MINUS


def test_a_full_yahoo_pool_holds_the_fetching_step_until_a_slot_frees(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    storage = pipeline.instance.event_log_storage
    storage.set_concurrency_slots(YAHOO_POOL, 1)
    storage.claim_concurrency_slot(YAHOO_POOL, "another-run", "intraday_prices")
    release = threading.Timer(3.0, storage.free_concurrency_slots_for_run, ["another-run"])
    release.start()
    started = time.monotonic()
    try:
        result = pipeline.materialize("intraday_prices", "2026-11-25|AAPL")
    finally:
        release.cancel()
    assert result.success
    assert time.monotonic() - started >= 3.0
    waited = [
        e.message
        for e in result.all_events
        if e.event_type_value == "ENGINE_EVENT" and YAHOO_POOL in (e.message or "")
    ]
    assert waited, "the step should report that it waited for the yahoo pool"


@pytest.mark.integration
def test_two_runs_started_at_once_on_one_duckdb_file_both_succeed(
    tmp_path: Path, fake_yahoo: FakeYahoo, duckdb_file: Path
) -> None:
    """Two processes, one Dagster instance (the project's dagster.yaml), one warehouse."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "NVDA", "AMZN"])
    fake_yahoo.config.latency_seconds = 0.02  # long enough for the runs to overlap
    env = {
        "DAGSTER_HOME": str(home),
        "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url,
        "STOCK_PIPELINE_WAREHOUSE": str(duckdb_file),
        "STOCK_PIPELINE_DATA_DIR": str(duckdb_file.parent),
    }
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Manager().Barrier(2)
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        runs = [
            pool.submit(sync_range, env, "2026-11-24|AAPL", "2026-11-25|MSFT", barrier),
            pool.submit(sync_range, env, "2026-11-24|NVDA", "2026-11-25|AMZN", barrier),
        ]
        outcomes = [run.result(timeout=300) for run in runs]
    assert [o["success"] for o in outcomes] == [True, True], outcomes
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for outcome in outcomes:
            run = instance.get_run_by_id(outcome["run_id"])
            assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    rows = WarehouseResource(path=str(duckdb_file)).query(
        """SELECT symbol, count(DISTINCT session_date) AS days, count(*) AS n
           FROM intraday_prices GROUP BY symbol ORDER BY symbol"""
    )
    assert list(rows["symbol"]) == ["AAPL", "AMZN", "MSFT", "NVDA"]
    assert set(rows["days"]) == {2}
    assert rows["n"].between(2 * 77, 2 * 78).all()  # the fake drops a rare all-null bar
