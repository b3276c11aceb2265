"""Price assets: intraday bars per (trading day, symbol); daily/weekly bars per (year, symbol)."""

from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_pipeline.defs.assets.backfill_windows import fetch_intraday_for_run
from stock_pipeline.defs.assets.outcomes import finish_batch
from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.defs.partitions import history_partitions, intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    normalize_history_interval,
    normalize_intraday_interval,
)
from stock_pipeline.domain.partition_keys import parse_history_keys, parse_intraday_keys
from stock_pipeline.domain.progress import ProgressTracker
from stock_pipeline.domain.run_keys import INTERVAL_TAG, SOURCE_TAG
from stock_pipeline.services.run_progress import run_tracker
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline.yahoo.batch import fetch_history

PRICES_GROUP = "prices"

# What both price assets share: batched single-run backfills into DuckDB, the yahoo pool,
# step retries for transient failures.
PRICE_ASSET_OPTIONS: dict[str, Any] = {
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "io_manager_key": "warehouse_io_manager",
    "group_name": PRICES_GROUP,
    "kinds": {"duckdb", "pandas"},
    "tags": {SOURCE_TAG: "yahoo"},
    "pool": YAHOO_POOL,
    "retry_policy": FETCH_RETRY_POLICY,
}


class IntradayConfig(dg.Config):
    interval: str = Field(
        default=DEFAULT_INTRADAY_INTERVAL,
        description="Bar interval: 1m 2m 5m 15m 30m 60m (= 1h) 90m. Each interval is stored "
        "as its own rows; a partition's metadata names the interval it was materialized with.",
    )


class HistoryConfig(dg.Config):
    interval: str = Field(default="1d", description="1d (daily) or 1wk (weekly) bars.")


def _checked(normalize: Callable[[str], str], value: str) -> str:
    """A config value normalised, or a run failure saying what is wrong with it."""
    try:
        return normalize(value)
    except StockPipelineError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc


def _progress(
    context: dg.AssetExecutionContext, interval: str, yahoo: YahooFinanceResource
) -> ProgressTracker | None:
    """The run's live progress, published to a file (``services.run_progress``): readers
    follow the run without a Dagster event per partition."""
    return run_tracker(
        context.run.run_id,
        context.partition_keys,
        context.asset_key.to_user_string(),
        interval,
        yahoo.requests_per_second,
        on_error=context.log.warning,
    )


@dg.asset(partitions_def=intraday_partitions, **PRICE_ASSET_OPTIONS)
def intraday_prices(
    context: dg.AssetExecutionContext,
    config: IntradayConfig,
    yahoo: YahooFinanceResource,
    warehouse: WarehouseResource,
) -> pd.DataFrame:
    """Intraday OHLCV bars of one symbol on one NYSE trading day (bar start in UTC).

    A run may carry many partitions: each symbol's days are fetched in as few Yahoo requests
    as its lookback and per-request span allow. Bars of a session still trading are
    provisional and refreshed until the close.
    """
    interval = _checked(normalize_intraday_interval, config.interval)
    partitions = parse_intraday_keys(context.partition_keys)
    progress = _progress(context, interval, yahoo)
    result = fetch_intraday_for_run(
        context,
        yahoo.client(),
        warehouse,
        partitions,
        interval,
        max_workers=yahoo.max_workers,
        progress=progress,
    )
    if progress is not None:
        progress.finish_fetch()
    return finish_batch(
        context,
        result,
        INTRADAY_PRICES,
        warehouse,
        extra={"interval": interval},
        tags={INTERVAL_TAG: interval},
    )


@dg.asset(partitions_def=history_partitions, **PRICE_ASSET_OPTIONS)
def daily_prices(
    context: dg.AssetExecutionContext,
    config: HistoryConfig,
    yahoo: YahooFinanceResource,
    warehouse: WarehouseResource,
) -> pd.DataFrame:
    """Daily (1d) or weekly (1wk) bars of one symbol for one calendar year.

    Raw OHLC with Yahoo's adjusted close beside it; dividends and splits are rows' data, not
    a rewrite of history. One Yahoo request per symbol covers every year in the run.
    """
    interval = _checked(normalize_history_interval, config.interval)
    partitions = parse_history_keys(context.partition_keys)
    progress = _progress(context, interval, yahoo)
    result = fetch_history(
        yahoo.client(), partitions, interval, max_workers=yahoo.max_workers, progress=progress
    )
    if progress is not None:
        progress.finish_fetch()
    return finish_batch(
        context,
        result,
        DAILY_PRICES,
        warehouse,
        extra={"interval": interval},
        tags={INTERVAL_TAG: interval},
    )
