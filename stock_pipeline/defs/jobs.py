"""Jobs: the asset selections that schedules, sensors and the command line launch."""

from __future__ import annotations

import dagster as dg

from stock_pipeline.defs.assets.actions import corporate_actions
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.assets.reference import current_prices, stocks
from stock_pipeline.defs.freshness import intraday_freshness_job
from stock_pipeline.defs.maintenance import warehouse_maintenance_job
from stock_pipeline.defs.retention import intraday_retention_job
from stock_pipeline.defs.reverification import daily_prices_reverification

intraday_prices_job = dg.define_asset_job(
    "intraday_prices_job",
    selection=[intraday_prices],
    description="Intraday bars for a set of (trading day, symbol) partitions.",
)
daily_prices_job = dg.define_asset_job(
    "daily_prices_job",
    # Its checks, but not the weekly re-verification (a fetch of every symbol's history).
    selection=dg.AssetSelection.assets(daily_prices)
    - dg.AssetSelection.checks(daily_prices_reverification),
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
corporate_actions_job = dg.define_asset_job(
    "corporate_actions_job",
    selection=[corporate_actions],
    description="Every split and dividend of the active (or the given) symbols.",
)
JOBS: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition] = [
    intraday_prices_job,
    daily_prices_job,
    stocks_job,
    current_prices_job,
    corporate_actions_job,
]

# The market open's two syncs in one run: quotes (unpartitioned) and today's intraday range.
market_open_job = dg.define_asset_job(
    "market_open_job",
    selection=[current_prices, intraday_prices],
    description="At the open: latest quotes plus the first intraday sync of today's session.",
)
JOBS.append(market_open_job)

# Weekly: every stored daily bar against Yahoo today; differing years stored again.
reverify_job = dg.define_asset_job(
    "reverify_job",
    selection=dg.AssetSelection.checks(daily_prices_reverification),
    description="Re-verify stored daily bars against Yahoo (one request per active symbol), "
    "report differences as the matches_yahoo warning on daily_prices, store differing "
    "years again.",
)
JOBS.append(reverify_job)

# Housekeeping, defined beside their schedules: delete old bars; judge freshness.
JOBS.extend([intraday_retention_job, intraday_freshness_job, warehouse_maintenance_job])
