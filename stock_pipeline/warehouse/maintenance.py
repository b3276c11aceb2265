"""Keeping the lake small: merge small files, expire old snapshots, delete freed files.

Every sync commits a few small Parquet files and every slice replace leaves the rows it
replaced in older snapshots; DuckLake's own functions compact and forget them
(``ducklake_merge_adjacent_files``, ``ducklake_rewrite_data_files``,
``ducklake_expire_snapshots``, ``ducklake_cleanup_old_files``). Snapshots younger than
the retention period (``$STOCK_PIPELINE_SNAPSHOT_RETENTION_DAYS``, default 7) stay
readable (``AT (TIMESTAMP => ...)``, ``connect(as_of=...)``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import duckdb

from stock_pipeline.warehouse.commits import retry_conflicts
from stock_pipeline.warehouse.lake import ALIAS
from stock_pipeline.warehouse.writers import catalog_of, writer_lock

SNAPSHOT_RETENTION_ENV = "STOCK_PIPELINE_SNAPSHOT_RETENTION_DAYS"
DEFAULT_SNAPSHOT_RETENTION_DAYS = 7


def snapshot_retention() -> timedelta:
    """How long snapshots stay readable, from the environment (read when maintenance runs)."""
    raw = os.environ.get(SNAPSHOT_RETENTION_ENV, "").strip()
    if not raw:
        return timedelta(days=DEFAULT_SNAPSHOT_RETENTION_DAYS)
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"${SNAPSHOT_RETENTION_ENV}={raw!r} is not a number of days") from None
    if days < 0:
        raise ValueError(f"${SNAPSHOT_RETENTION_ENV}={raw!r} must not be negative")
    return timedelta(days=days)


T = TypeVar("T")


@dataclass(frozen=True)
class LakeFootprint:
    """What the lake's current snapshot references, and how many snapshots it keeps."""

    data_files: int
    data_bytes: int
    delete_files: int
    delete_bytes: int
    snapshots: int


@dataclass(frozen=True)
class MaintenanceReport:
    before: LakeFootprint
    after: LakeFootprint
    snapshots_expired: int
    files_deleted: int
    seconds: float

    def metadata(self) -> dict[str, int | float | str]:
        """Flat figures for a run's metadata."""
        flat: dict[str, int | float | str] = {
            "snapshots_expired": self.snapshots_expired,
            "files_deleted": self.files_deleted,
            "seconds": round(self.seconds, 3),
        }
        for when, footprint in (("before", self.before), ("after", self.after)):
            for name, value in asdict(footprint).items():
                flat[f"{name}_{when}"] = value
        return flat


def footprint(con: duckdb.DuckDBPyConnection) -> LakeFootprint:
    row = con.execute(
        f"""SELECT coalesce(sum(file_count), 0), coalesce(sum(file_size_bytes), 0),
                   coalesce(sum(delete_file_count), 0), coalesce(sum(delete_file_size_bytes), 0)
            FROM ducklake_table_info('{ALIAS}')"""
    ).fetchone()
    snapshots = con.execute(f"SELECT count(*) FROM ducklake_snapshots('{ALIAS}')").fetchone()
    assert row is not None and snapshots is not None
    return LakeFootprint(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(snapshots[0]))


def maintain(
    con: duckdb.DuckDBPyConnection, keep_snapshots: timedelta, now: datetime
) -> MaintenanceReport:
    """Compact, then expire snapshots older than ``now - keep_snapshots``, then delete files.

    Each step is its own DuckLake commit under the writer lock (``writers``; a sync's write
    waits for it, as for another sync's), retried if a commit conflicts all the same.
    """
    started = time.monotonic()
    before = footprint(con)
    catalog = catalog_of(con)

    def step(work: Callable[[], T], what: str) -> T:
        with writer_lock(catalog):
            return retry_conflicts(work, what)

    step(
        lambda: con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')").fetchall(),
        "merge adjacent files",
    )
    step(
        lambda: con.execute(f"CALL ducklake_rewrite_data_files('{ALIAS}')").fetchall(),
        "rewrite files with deletions",
    )

    # The snapshots to expire are chosen here, by DuckDB's own timestamp comparison, and
    # named by id: with a SQLite catalog, ducklake_expire_snapshots(older_than => ...)
    # expired every snapshot, however recent (DuckDB 1.4.4, DuckLake 0.3). The current
    # snapshot is never expired. fetchall, not fetchone: a call commits once fully read.
    def expire() -> list[tuple[object, ...]]:
        old = [
            int(sid)
            for (sid,) in con.execute(
                f"""SELECT snapshot_id FROM ducklake_snapshots('{ALIAS}')
                    WHERE snapshot_time < ? AND snapshot_id <
                          (SELECT max(snapshot_id) FROM ducklake_snapshots('{ALIAS}'))""",
                [now - keep_snapshots],
            ).fetchall()
        ]
        if not old:
            return []
        return con.execute(
            f"SELECT snapshot_id FROM ducklake_expire_snapshots('{ALIAS}', versions => ?)", [old]
        ).fetchall()

    expired = step(expire, "expire snapshots")
    deleted = step(
        lambda: con.execute(
            f"SELECT path FROM ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)"
        ).fetchall(),
        "delete files of expired snapshots",
    )
    return MaintenanceReport(
        before=before,
        after=footprint(con),
        snapshots_expired=len(expired),
        files_deleted=len(deleted),
        seconds=time.monotonic() - started,
    )
