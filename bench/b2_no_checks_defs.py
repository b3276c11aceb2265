"""B2's variant without asset checks: the same job and resources, no check steps.

Measures what the per-partition asset checks add to a scheduled sync (BENCHMARKS.md, B2).
"""

import dagster as dg

from stock_pipeline.definitions import defs as project
from stock_pipeline.defs.assets.prices import intraday_prices
from stock_pipeline.defs.jobs import intraday_prices_job

defs = dg.Definitions(
    assets=[intraday_prices],
    jobs=[intraday_prices_job],
    executor=dg.in_process_executor,
    resources=project.resources,
)
