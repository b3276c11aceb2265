"""Lake maintenance as a Dagster job: compact files, expire snapshots, free their space.

Hourly syncs add small Parquet files and every slice replace keeps the replaced rows in
older snapshots; a daily run after retention keeps the file count and size bounded, and
its figures (files and bytes before and after, snapshots expired, files deleted) are the
run's output metadata.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from pydantic import Field

from stock_pipeline import settings
from stock_pipeline.defs.partitions import TIMEZONE
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.warehouse.maintenance import (
    DEFAULT_SNAPSHOT_RETENTION_DAYS,
    SNAPSHOT_RETENTION_ENV,
    maintain,
    snapshot_retention,
)

MAINTENANCE_TAG = "stock_pipeline/maintenance"


class MaintenanceConfig(dg.Config):
    keep_snapshot_days: float | None = Field(
        default=None,
        description=f"Keep snapshots (point-in-time reads) of the last N days. Unset: "
        f"${SNAPSHOT_RETENTION_ENV}, else {DEFAULT_SNAPSHOT_RETENTION_DAYS}.",
    )


@dg.op(tags={MAINTENANCE_TAG: "compact"})
def maintain_warehouse(
    context: dg.OpExecutionContext, config: MaintenanceConfig, warehouse: WarehouseResource
) -> dg.Output[dict[str, Any]]:
    """Merge small files, rewrite files with many deletions, expire and delete old ones."""
    keep = (
        timedelta(days=config.keep_snapshot_days)
        if config.keep_snapshot_days is not None
        else snapshot_retention()
    )
    with warehouse.connect() as con:
        # Snapshot times are the catalog's wall clock, never the pinned market clock.
        report = maintain(con, keep, datetime.now(UTC))
    figures = report.metadata()
    context.log.info(
        "lake maintenance: %d -> %d data file(s), %d -> %d bytes; %d snapshot(s) expired, "
        "%d file(s) deleted",
        report.before.data_files,
        report.after.data_files,
        report.before.data_bytes,
        report.after.data_bytes,
        report.snapshots_expired,
        report.files_deleted,
    )
    return dg.Output(figures, metadata={**figures, "warehouse": str(warehouse.database)})


@dg.job(
    description="Compact the warehouse lake's files and expire snapshots older than the "
    "snapshot retention (default 7 days), deleting the files only they used.",
    tags={"stock_pipeline/origin": "maintenance"},
)
def warehouse_maintenance_job() -> None:
    maintain_warehouse()


@dg.schedule(
    job=warehouse_maintenance_job,
    cron_schedule="30 18 * * *",
    execution_timezone=TIMEZONE,
    description="Daily at 18:30 New York, after intraday retention (18:00): compact the "
    "lake and expire old snapshots.",
)
def warehouse_maintenance_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    moment = context.scheduled_execution_time or settings.now()
    return dg.RunRequest(run_key=f"warehouse_maintenance:{moment.date().isoformat()}")


MAINTENANCE_SCHEDULES = [warehouse_maintenance_schedule]
