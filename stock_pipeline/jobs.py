"""Jobs: the asset selections that schedules, sensors and the command line launch."""

from __future__ import annotations

import dagster as dg

from stock_pipeline.assets.prices import daily_prices, intraday_prices
from stock_pipeline.assets.reference import current_prices, stocks

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
JOBS = [intraday_prices_job, daily_prices_job, stocks_job, current_prices_job]
