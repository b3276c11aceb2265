"""Where things live when nothing is configured: the embedded, offline-friendly defaults.

Read at run time (never at import), so a resource or command picks up the environment it
runs in: STOCK_PIPELINE_DATA_DIR, STOCK_PIPELINE_WAREHOUSE, STOCK_PIPELINE_WAREHOUSE_DATA,
STOCK_PIPELINE_DUCKDB, DAGSTER_HOME, STOCK_PIPELINE_NOW.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    return Path(os.environ.get("STOCK_PIPELINE_DATA_DIR") or PROJECT_DIR / "data")


WAREHOUSE_ENV = "STOCK_PIPELINE_WAREHOUSE"
WAREHOUSE_DATA_ENV = "STOCK_PIPELINE_WAREHOUSE_DATA"


def warehouse_location() -> str:
    """The warehouse (a DuckLake): an embedded lake's directory or ``postgres:<conninfo>``."""
    return os.environ.get(WAREHOUSE_ENV) or str(data_dir() / "warehouse")


def warehouse_data_path() -> str | None:
    """Where the lake's Parquet files go, if not its directory: a path or s3://bucket/prefix/."""
    return os.environ.get(WAREHOUSE_DATA_ENV) or None


def duckdb_path() -> Path:
    """The single-file DuckDB warehouse of earlier versions (what ``warehouse migrate`` reads)."""
    return Path(os.environ.get("STOCK_PIPELINE_DUCKDB") or data_dir() / "warehouse.duckdb")


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")


def yfinance_cache_dir() -> Path:
    return data_dir() / "yfinance_cache"


def now() -> datetime:
    """The current instant, or the one pinned by STOCK_PIPELINE_NOW (ISO 8601).

    Pinning the clock makes lookback limits, "today" and provisional sessions reproducible
    against a recorded or simulated Yahoo (tests, replays); production leaves it unset.
    """
    pinned = os.environ.get("STOCK_PIPELINE_NOW")
    if not pinned:
        return datetime.now(UTC)
    stamp = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
