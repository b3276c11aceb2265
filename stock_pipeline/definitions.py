"""The one Definitions object of stock_pipeline."""

from __future__ import annotations

import dagster as dg

from stock_pipeline.assets.prices import daily_prices, intraday_prices
from stock_pipeline.assets.reference import current_prices, stocks
from stock_pipeline.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.jobs import (
    current_prices_job,
    daily_prices_job,
    intraday_prices_job,
    stocks_job,
)
from stock_pipeline.resources import WarehouseResource, YahooFinanceResource

warehouse = WarehouseResource()

defs = dg.Definitions(
    assets=[intraday_prices, daily_prices, stocks, current_prices],
    jobs=[intraday_prices_job, daily_prices_job, stocks_job, current_prices_job],
    # Steps of a run share one process: no process start per step.
    executor=dg.in_process_executor,
    resources={
        "yahoo": YahooFinanceResource(),
        "warehouse": warehouse,
        "warehouse_io_manager": DuckDBWarehouseIOManager(warehouse=warehouse),
    },
)
