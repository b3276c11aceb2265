"""Many machines: a PostgreSQL catalog, runs in separate processes and working directories."""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.warehouse.lake import forget_shared
from stock_pipeline_tests.support.postgres import postgres_catalog
from stock_pipeline_tests.support.processes import hammer_slice, sync_range


@pytest.fixture
def catalog() -> Iterator[str]:
    with postgres_catalog() as setting:
        yield setting


def machine(root: Path, symbols: list[str]) -> Path:
    """A working directory of its own: Dagster home and data dir (what one machine holds)."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("symbols", symbols)
    return root


@pytest.mark.integration
def test_two_machines_write_different_symbols_at_once_and_both_land(
    tmp_path: Path, fake_yahoo: FakeYahoo, catalog: str
) -> None:
    shared = tmp_path / "shared-parquet"  # an S3 bucket in production (test_lake_s3.py)
    fake_yahoo.config.latency_seconds = 0.02  # long enough for the runs to overlap
    envs = []
    for name, symbols in (("a", ["AAPL", "MSFT"]), ("b", ["NVDA", "AMZN"])):
        root = machine(tmp_path / name, symbols)
        envs.append(
            {
                "DAGSTER_HOME": str(root / "dagster_home"),
                "STOCK_PIPELINE_DATA_DIR": str(root / "data"),
                "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url,
                "STOCK_PIPELINE_WAREHOUSE": catalog,
                "STOCK_PIPELINE_WAREHOUSE_DATA": str(shared),
            }
        )
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Manager().Barrier(2)
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        runs = [
            pool.submit(sync_range, envs[0], "2026-11-24|AAPL", "2026-11-25|MSFT", barrier),
            pool.submit(sync_range, envs[1], "2026-11-24|NVDA", "2026-11-25|AMZN", barrier),
        ]
        outcomes = [run.result(timeout=600) for run in runs]
    assert [o["success"] for o in outcomes] == [True, True], outcomes
    warehouse = WarehouseResource(path=catalog, data_path=str(shared))
    try:
        rows = warehouse.query(
            """SELECT symbol, count(DISTINCT session_date) AS days, count(*) AS n,
                      count(DISTINCT ts) AS bars
               FROM intraday_prices GROUP BY symbol ORDER BY symbol"""
        )
    finally:
        forget_shared(warehouse.database)
    assert list(rows["symbol"]) == ["AAPL", "AMZN", "MSFT", "NVDA"]
    assert set(rows["days"]) == {2}
    assert (rows["n"] == rows["bars"]).all()  # no duplicates
    assert rows["n"].between(2 * 77, 2 * 78).all()  # the fake drops a rare all-null bar
    assert not (tmp_path / "a" / "data" / "warehouse").exists()  # nothing went local


@pytest.mark.integration
def test_writers_hammering_one_slice_through_postgres_leave_no_duplicate(
    catalog: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_WAREHOUSE_DATA", str(tmp_path / "shared-parquet"))
    workers, rounds = 3, 4
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        start = manager.Barrier(workers)
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            futures = [pool.submit(hammer_slice, catalog, w, rounds, start) for w in range(workers)]
            written = [f.result(timeout=600) for f in futures]
    assert written == [78 * rounds] * workers
    warehouse = WarehouseResource(path=catalog, data_path=str(tmp_path / "shared-parquet"))
    try:
        got = warehouse.query(
            "SELECT count(*) AS n, count(DISTINCT ts) AS ts, count(DISTINCT open) AS v "
            "FROM intraday_prices"
        )
    finally:
        forget_shared(warehouse.database)
    assert got.iloc[0].tolist() == [78, 78, 1]
