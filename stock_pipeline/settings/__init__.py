"""Where things live when nothing is configured: the embedded, offline-friendly defaults.

Read at run time (never at import), so a resource or command picks up the environment it
runs in: STOCK_PIPELINE_DATA_DIR, STOCK_PIPELINE_DUCKDB, DAGSTER_HOME, STOCK_PIPELINE_NOW.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    return Path(os.environ.get("STOCK_PIPELINE_DATA_DIR") or PROJECT_DIR / "data")


def duckdb_path() -> Path:
    return Path(os.environ.get("STOCK_PIPELINE_DUCKDB") or data_dir() / "warehouse.duckdb")


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")


DEFAULT_LOCK_TIMEOUT_SECONDS = 120.0


def lock_timeout() -> float:
    """Seconds to wait for a warehouse held by another process (STOCK_PIPELINE_LOCK_TIMEOUT)."""
    raw = os.environ.get("STOCK_PIPELINE_LOCK_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        from stock_pipeline.domain.errors import ConfigurationError

        raise ConfigurationError(
            f"STOCK_PIPELINE_LOCK_TIMEOUT={raw!r} is not a number of seconds >= 0 (e.g. 120)"
        )
    return seconds


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
