"""Where things live when nothing is configured: the embedded, offline-friendly defaults.

Read at run time (never at import), so a resource or command picks up the environment it
runs in: STOCK_PIPELINE_DATA_DIR, STOCK_PIPELINE_WAREHOUSE, STOCK_PIPELINE_WAREHOUSE_DATA,
STOCK_PIPELINE_DUCKDB, DAGSTER_HOME, STOCK_PIPELINE_NOW, STOCK_PIPELINE_INTRADAY_WINDOW_DAYS.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path

from stock_pipeline.domain.errors import InvalidSettingError
from stock_pipeline.domain.partition_keys import DEFAULT_INTRADAY_WINDOW_DAYS

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Directories the pipeline creates (data dir, DAGSTER_HOME) are its owner's alone: the
# warehouse and the instance (run config, logs) are not for every local account to read.
PRIVATE_DIR_MODE = 0o700


def data_dir() -> Path:
    return Path(os.environ.get("STOCK_PIPELINE_DATA_DIR") or PROJECT_DIR / "data")


WAREHOUSE_ENV = "STOCK_PIPELINE_WAREHOUSE"
WAREHOUSE_DATA_ENV = "STOCK_PIPELINE_WAREHOUSE_DATA"


def warehouse_location() -> str:
    """The warehouse (a DuckLake): an embedded lake's directory or ``postgres:<conninfo>``.

    A file there is refused at once: it is most likely the old single-file warehouse,
    which DuckLake would otherwise report as a cryptic failure to create ``catalog.sqlite``.
    """
    location = os.environ.get(WAREHOUSE_ENV) or str(data_dir() / "warehouse")
    if location.strip().startswith("postgres:"):
        return location
    path = Path(location.strip()).expanduser()
    if path.exists() and not path.is_dir():
        raise InvalidSettingError(
            f"the warehouse path {path} is a file, not a directory ({WAREHOUSE_ENV}, or "
            f"STOCK_PIPELINE_DATA_DIR/warehouse): it must be a directory (an embedded lake; "
            f"a new one starts empty) or postgres:<conninfo>; an old single-file "
            f"warehouse.duckdb is moved into a lake with `stock-pipeline warehouse migrate "
            f"--from {path}`"
        )
    return location


def warehouse_data_path() -> str | None:
    """Where the lake's Parquet files go, if not its directory: a path or s3://bucket/prefix/."""
    return os.environ.get(WAREHOUSE_DATA_ENV) or None


def duckdb_path() -> Path:
    """The single-file DuckDB warehouse of earlier versions (what ``warehouse migrate`` reads)."""
    return Path(os.environ.get("STOCK_PIPELINE_DUCKDB") or data_dir() / "warehouse.duckdb")


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")


DEFAULT_LOCK_TIMEOUT_SECONDS = 120.0


def lock_timeout() -> float:
    """Seconds a write waits for other writers: the lake's writer lock, then commit
    conflicts, or another run of the same backfill (STOCK_PIPELINE_LOCK_TIMEOUT)."""
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


INTRADAY_WINDOW_DAYS_ENV = "STOCK_PIPELINE_INTRADAY_WINDOW_DAYS"
# A week: even across a long weekend (a Friday or Monday holiday) the window then holds the
# latest sessions, which the hourly syncs fetch.
MIN_INTRADAY_WINDOW_DAYS = 7
# About three years: Yahoo serves 60m/1h bars 730 days back, and an operator who backfills
# them and keeps them longer (STOCK_PIPELINE_INTRADAY_RETENTION_DAYS) still needs them to be
# partitions. Beyond that a session could only be an empty partition, each costing every
# UI backfill.
MAX_INTRADAY_WINDOW_DAYS = 1100


def intraday_window_days() -> int:
    """How far back the intraday partitions reach: sessions from this many calendar days
    before today (STOCK_PIPELINE_INTRADAY_WINDOW_DAYS, default 63: Yahoo's 60-day lookback
    for 2m-90m bars and a margin).

    Read when the code location loads (the partitions are built then), so the webserver, the
    daemon and run workers must share it, or they disagree on which partitions exist.
    """
    return bounded_int(
        INTRADAY_WINDOW_DAYS_ENV,
        DEFAULT_INTRADAY_WINDOW_DAYS,
        MIN_INTRADAY_WINDOW_DAYS,
        MAX_INTRADAY_WINDOW_DAYS,
        "days",
    )


def bounded_int(name: str, default: int, low: int, high: int, unit: str) -> int:
    """The whole number in environment variable ``name``, ``default`` when unset; an
    InvalidSettingError naming the variable, the range and the default otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidSettingError(
            f"${name}={raw!r} is not a whole number of {unit} from {low} to {high} "
            f"(default {default}); unset it for the default"
        )
    return value


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents with mode 0700; existing ones are left as set.

    An operator who created the directory chose its mode (a group-readable share, say); only
    what the pipeline creates itself is made private.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        directory.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask


def validate() -> None:
    """Raise InvalidSettingError for the first setting that cannot work, before any work."""
    from stock_pipeline.settings import execution
    from stock_pipeline.settings.automation import final_grace, short_session_refetches

    now()
    intraday_window_days()
    warehouse_location()
    final_grace()
    short_session_refetches()
    execution.validate()


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
    try:
        stamp = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSettingError(
            f"STOCK_PIPELINE_NOW={pinned!r} is not an ISO 8601 instant such as "
            f"2026-11-27T21:00:00Z; unset it to use the real clock"
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
