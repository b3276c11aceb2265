"""B1's baseline: the pipeline's own fetch, run the way Dagster's default backfill runs it.

The asset has the key, partitions, IO manager and resources of ``intraday_prices`` but no
backfill policy, so a backfill becomes one run per (day, symbol) partition, and each run
fetches exactly its own partition. This is what an asset written without batching costs.
"""

import dagster as dg
import pandas as pd

from stock_pipeline.defs.assets.outcomes import finish_batch
from stock_pipeline.defs.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.defs.partitions import intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.domain.partition_keys import parse_intraday_keys
from stock_pipeline.domain.run_keys import INTERVAL_TAG
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline.yahoo.batch import fetch_intraday

INTERVAL = "5m"


@dg.asset(
    name="intraday_prices",
    partitions_def=intraday_partitions,
    io_manager_key="warehouse_io_manager",
)
def intraday_prices(
    context: dg.AssetExecutionContext,
    yahoo: YahooFinanceResource,
    warehouse: WarehouseResource,
) -> pd.DataFrame:
    """One (day, symbol) partition per run, as Dagster's default backfill launches it."""
    partitions = parse_intraday_keys([context.partition_key])
    result = fetch_intraday(yahoo.client(), partitions, INTERVAL, max_workers=yahoo.max_workers)
    return finish_batch(
        context,
        result,
        INTRADAY_PRICES,
        warehouse,
        extra={"interval": INTERVAL},
        tags={INTERVAL_TAG: INTERVAL},
    )


_warehouse = WarehouseResource()
defs = dg.Definitions(
    assets=[intraday_prices],
    executor=dg.in_process_executor,
    resources={
        "yahoo": YahooFinanceResource(),
        "warehouse": _warehouse,
        "warehouse_io_manager": DuckDBWarehouseIOManager(warehouse=_warehouse),
    },
)
