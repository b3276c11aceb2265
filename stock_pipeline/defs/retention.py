"""Retention: delete intraday bars older than N days, and say so in Dagster's record.

Dagster 1.13's open-source storages cannot forget a partition's materializations
(``DagsterInstance.wipe_asset_partitions`` raises ``NotImplementedError`` on SQLite and
PostgreSQL; only a whole asset can be wiped). So the run that deletes a partition's rows
records a new materialization of it with ``rows: 0`` and a description saying the bars
were deleted by retention: the partition's latest event then tells the truth (no data,
why, since when), its check results stop being current, and its history stays intact.

The number of days: run config ``keep_days``, else ``$STOCK_PIPELINE_INTRADAY_RETENTION_DAYS``,
else 30. Sensors that re-fetch missing sessions should not reach back before
``retained_since(now)``.
"""

from datetime import UTC, date, datetime

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from stock_pipeline import settings
from stock_pipeline.defs.assets.backfill_windows import prune_backfill_files
from stock_pipeline.defs.assets.prices import intraday_prices
from stock_pipeline.defs.partitions import TIMEZONE
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.retention import DEFAULT_KEEP_DAYS, first_kept_day
from stock_pipeline.domain.run_keys import ORIGIN_TAG, RETENTION_TAG, as_of_run_config
from stock_pipeline.settings.automation import KEEP_DAYS_ENV, keep_days
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, SHORT_SESSIONS
from stock_pipeline.warehouse.writers import write_transaction


def delete_intraday_before(con: duckdb.DuckDBPyConnection, cutoff: date) -> pd.DataFrame:
    """Delete intraday rows of sessions before ``cutoff``, in one transaction.

    Returns what was deleted: rows per (symbol, session_date), every interval together.
    """

    def delete() -> pd.DataFrame:
        deleted = con.execute(
            """SELECT symbol, session_date, count(*) AS rows FROM intraday_prices
               WHERE session_date < ? GROUP BY symbol, session_date
               ORDER BY session_date, symbol""",
            [cutoff],
        ).df()
        con.execute("DELETE FROM intraday_prices WHERE session_date < ?", [cutoff])
        con.execute("DELETE FROM short_sessions WHERE session_date < ?", [cutoff])
        return deleted

    # A DuckLake DELETE: the rows leave the current snapshot now, their files once the
    # snapshots that still show them expire (defs/maintenance.py).
    return write_transaction(
        con, [INTRADAY_PRICES.name, SHORT_SESSIONS.name], delete, "retention delete"
    )


class RetentionConfig(dg.Config):
    keep_days: int | None = Field(
        default=None,
        description=f"Keep intraday bars of the last N days. Unset: ${KEEP_DAYS_ENV}, else "
        f"{DEFAULT_KEEP_DAYS}.",
    )
    as_of: str | None = Field(
        default=None, description="Judge age as of this ISO instant; unset: now."
    )


def _now(config: RetentionConfig) -> datetime:
    if config.as_of is None:
        return settings.now()
    moment = datetime.fromisoformat(config.as_of)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dg.op(tags={RETENTION_TAG: "delete"})
def delete_old_intraday_bars(
    context: dg.OpExecutionContext, config: RetentionConfig, warehouse: WarehouseResource
) -> None:
    """Delete old intraday bars; record each affected partition as materialized with 0 rows."""
    days = config.keep_days if config.keep_days is not None else keep_days()
    cutoff = first_kept_day(_now(config), days)
    with warehouse.connect() as con:
        deleted = delete_intraday_before(con, cutoff)
    rows = {
        intraday_key(str(s), pd.Timestamp(d).date()): int(n)
        for s, d, n in deleted.itertuples(index=False)
    }
    # Only partitions Dagster shows as materialized need their record corrected.
    shown = context.instance.get_latest_storage_id_by_partition(
        intraday_prices.key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(rows)
    )
    for key in sorted(shown):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=intraday_prices.key,
                partition=key,
                description=f"bars deleted by retention: older than {days} days "
                f"(sessions before {cutoff})",
                metadata={"rows": 0, "deleted_rows": rows[key], "retention_cutoff": str(cutoff)},
                tags={RETENTION_TAG: "deleted"},
            )
        )
    pruned = prune_backfill_files(context.instance)
    if pruned:
        context.log.info(f"removed the files of ended backfill(s): {', '.join(pruned)}")
    context.log.info(
        "deleted %d intraday row(s) of %d partition(s) dated before %s (keeping %d days); "
        "%d partition(s) recorded as emptied",
        sum(rows.values()),
        len(rows),
        cutoff,
        days,
        len(shown),
    )


@dg.job(
    description="Delete intraday bars older than the retention period (default 30 days).",
    tags={ORIGIN_TAG: "retention"},
)
def intraday_retention_job() -> None:
    delete_old_intraday_bars()


@dg.schedule(
    job=intraday_retention_job,
    cron_schedule="0 18 * * *",
    execution_timezone=TIMEZONE,
    description="Daily at 18:00 New York, after the close and its final syncs: delete "
    "intraday bars older than the retention period (30 days unless "
    "$STOCK_PIPELINE_INTRADAY_RETENTION_DAYS or the run config's keep_days says otherwise).",
)
def intraday_retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    moment = context.scheduled_execution_time or settings.now()
    return dg.RunRequest(
        run_key=f"intraday_retention:{moment.date().isoformat()}",
        run_config=as_of_run_config("delete_old_intraday_bars", moment.isoformat()),
    )


RETENTION_SCHEDULES = [intraday_retention_schedule]
