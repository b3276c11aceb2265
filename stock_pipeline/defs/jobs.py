"""Jobs: the asset selections that schedules, sensors and the command line launch."""

from __future__ import annotations

import dagster as dg

from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.assets.reference import current_prices, stocks
from stock_pipeline.defs.freshness import intraday_freshness_job
from stock_pipeline.defs.maintenance import warehouse_maintenance_job
from stock_pipeline.defs.retention import intraday_retention_job

intraday_prices_job = dg.define_asset_job(
    "intraday_prices_job",
    selection=[intraday_prices],
    description="Intraday bars for a set of (trading day, symbol) partitions.",
)
daily_prices_job = dg.define_asset_job(
    "daily_prices_job",
    selection=[daily_prices],
    description="Daily or weekly bars for a set of (year, symbol) partitions.",
)
stocks_job = dg.define_asset_job(
    "stocks_job",
    selection=[stocks],
    description="Refresh the profile (name, exchange, sector…) of registered symbols.",
)
current_prices_job = dg.define_asset_job(
    "current_prices_job",
    selection=[current_prices],
    description="Latest quote of every registered symbol.",
)
JOBS: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition] = [
    intraday_prices_job,
    daily_prices_job,
    stocks_job,
    current_prices_job,
]

# The market open's two syncs in one run: quotes (unpartitioned) and today's intraday range.
market_open_job = dg.define_asset_job(
    "market_open_job",
    selection=[current_prices, intraday_prices],
    description="At the open: latest quotes plus the first intraday sync of today's session.",
)
JOBS.append(market_open_job)

# Housekeeping, defined beside their schedules: delete old bars; judge freshness.
JOBS.extend([intraday_retention_job, intraday_freshness_job, warehouse_maintenance_job])
