"""The one Definitions object of stock_pipeline."""

import dagster as dg

from stock_pipeline.defs.assets.actions import corporate_actions
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.assets.reference import current_prices, stocks
from stock_pipeline.defs.checks import ASSET_CHECKS
from stock_pipeline.defs.executors import run_executor
from stock_pipeline.defs.freshness import FRESHNESS_SCHEDULES
from stock_pipeline.defs.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.defs.jobs import JOBS
from stock_pipeline.defs.maintenance import MAINTENANCE_SCHEDULES
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.defs.retention import RETENTION_SCHEDULES
from stock_pipeline.defs.schedules import SCHEDULES
from stock_pipeline.defs.sensors import SENSORS

warehouse = WarehouseResource()

defs = dg.Definitions(
    assets=[intraday_prices, daily_prices, stocks, current_prices, corporate_actions],
    asset_checks=ASSET_CHECKS,
    jobs=JOBS,
    schedules=[*SCHEDULES, *RETENTION_SCHEDULES, *FRESHNESS_SCHEDULES, *MAINTENANCE_SCHEDULES],
    sensors=SENSORS,
    # Steps of a launched run share its process (no process start per step), or run on
    # Celery workers with STOCK_PIPELINE_EXECUTOR=celery (defs/executors.py).
    executor=run_executor(),
    resources={
        "yahoo": YahooFinanceResource(),
        "warehouse": warehouse,
        "warehouse_io_manager": DuckDBWarehouseIOManager(warehouse=warehouse),
    },
)
