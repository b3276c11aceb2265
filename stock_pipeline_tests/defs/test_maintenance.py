"""The maintenance job: scheduled after retention, its figures in the run's metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from stock_pipeline.definitions import defs
from stock_pipeline.defs.maintenance import (
    warehouse_maintenance_job,
    warehouse_maintenance_schedule,
)
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars


def test_the_job_compacts_and_reports_its_figures(
    warehouse_dir: Path, instance: dg.DagsterInstance
) -> None:
    warehouse = WarehouseResource(path=str(warehouse_dir))
    for price in (100.0, 101.0, 102.0):
        warehouse.write(
            INTRADAY_PRICES,
            bars("AAPL", date(2026, 11, 24), price=price),
            {"fetched_at": datetime(2026, 11, 25, 22, 0, tzinfo=UTC)},
        )
    result = warehouse_maintenance_job.execute_in_process(
        instance=instance,
        resources={"warehouse": warehouse},
        run_config={"ops": {"maintain_warehouse": {"config": {"keep_snapshot_days": 0}}}},
    )
    assert result.success
    (event,) = [e for e in result.get_step_success_events() if e.step_key == "maintain_warehouse"]
    output = result.events_for_node("maintain_warehouse")
    metadata = next(e for e in output if e.event_type_value == "STEP_OUTPUT").step_output_data
    figures = {k: v.value for k, v in metadata.metadata.items()}
    assert figures["data_files_after"] < figures["data_files_before"]
    assert figures["snapshots_expired"] > 0 and figures["snapshots_after"] == 1
    assert event is not None
    assert warehouse.query("SELECT DISTINCT open FROM intraday_prices")["open"].tolist() == [102]


def test_maintenance_is_scheduled_daily_after_retention() -> None:
    assert defs.resolve_job_def("warehouse_maintenance_job") is not None
    schedule = defs.resolve_schedule_def(warehouse_maintenance_schedule.name)
    assert schedule.cron_schedule == "30 18 * * *"
    retention = defs.resolve_schedule_def("intraday_retention_schedule")
    assert retention.cron_schedule == "0 18 * * *"
