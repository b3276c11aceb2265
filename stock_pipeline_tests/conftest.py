"""Shared fixtures: a temporary warehouse and Dagster instance, the fake Yahoo.

The whole suite runs on one pinned clock (STOCK_PIPELINE_NOW, set in pyproject.toml's pytest
``env`` before anything is imported), the same instant the fake Yahoo answers at:
lookbacks, "today" and provisional sessions are then reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline_tests.support.pipeline import Pipeline

pytest_plugins = [
    "stock_pipeline.fake_yahoo.pytest_plugin",
    "stock_pipeline_tests.support.webhook",
]


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir, warehouse (an embedded lake) and yfinance cache."""
    data = tmp_path / "data"
    monkeypatch.setenv("STOCK_PIPELINE_DATA_DIR", str(data))
    monkeypatch.setenv("STOCK_PIPELINE_WAREHOUSE", str(data / "warehouse"))
    monkeypatch.delenv("STOCK_PIPELINE_WAREHOUSE_DATA", raising=False)
    monkeypatch.setenv("STOCK_PIPELINE_DUCKDB", str(data / "warehouse.duckdb"))
    monkeypatch.delenv("STOCK_PIPELINE_YAHOO_URL", raising=False)
    monkeypatch.delenv("STOCK_PIPELINE_ALERT_WEBHOOK", raising=False)
    return data


@pytest.fixture(autouse=True)
def fresh_yfinance_cache() -> None:
    """yfinance keeps answers for past ranges in a process-wide cache; tests start empty."""
    import yfinance.data

    yfinance.data.YfData.cache_get.cache_clear()


@pytest.fixture
def warehouse_dir(isolated_paths: Path) -> Path:
    """The test's embedded warehouse: a DuckLake directory (SQLite catalog + Parquet files)."""
    return isolated_paths / "warehouse"


@pytest.fixture
def duckdb_file(warehouse_dir: Path) -> Path:
    """The test's warehouse location (named from when it was one DuckDB file)."""
    return warehouse_dir


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def pipeline(
    instance: dg.DagsterInstance,
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Pipeline:
    """The project's assets against a fresh fake Yahoo and a temporary DuckDB file."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    return Pipeline(instance, fake_yahoo, duckdb_file)
