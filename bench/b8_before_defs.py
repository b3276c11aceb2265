"""B8's "before": the price checks as they were, scoped per partition (specs only).

Dagster plans (and the UI reads) a check per partition when its spec has a
``partitions_def``: this reproduces that bookkeeping for run creation and the asset page;
the check function is never executed here.
"""

import warnings
from collections.abc import Iterator

import dagster as dg

import stock_pipeline.definitions as project
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.jobs import intraday_prices_job
from stock_pipeline.defs.partitions import intraday_partitions
from stock_pipeline.domain.verdicts import BAR_COUNT, BARS_IN_SESSION, OHLC_SANE, UNIQUE_BARS

warnings.filterwarnings("ignore", category=dg.PreviewWarning)

PER_PARTITION_SPECS = [
    dg.AssetCheckSpec(name, asset=intraday_prices, partitions_def=intraday_partitions)
    for name in (OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION, BAR_COUNT)
]


@dg.multi_asset_check(specs=PER_PARTITION_SPECS, can_subset=True)
def intraday_prices_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    if context.selected_asset_check_keys:
        raise NotImplementedError("B8 only plans these checks and reads their records")
    yield from ()


defs = dg.Definitions(
    assets=[intraday_prices, daily_prices],
    asset_checks=[intraday_prices_checks],
    jobs=[intraday_prices_job],
    resources=project.defs.resources,
)
