"""Price assets: intraday bars per (trading day, symbol); daily/weekly bars per (year, symbol)."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_pipeline import settings
from stock_pipeline.defs.assets.backfill_windows import fetch_intraday_for_run
from stock_pipeline.defs.assets.outcomes import finish_batch
from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.defs.partitions import history_partitions, intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.defs.step_errors import permanent_failures
from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.domain.frame_verdicts import intraday_partition_verdicts
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    normalize_history_interval,
    normalize_intraday_interval,
)
from stock_pipeline.domain.partition_keys import parse_history_keys, parse_intraday_keys
from stock_pipeline.domain.progress import ProgressTracker
from stock_pipeline.domain.run_keys import INTERVAL_TAG, SOURCE_TAG
from stock_pipeline.domain.verdicts import history_partition_verdicts
from stock_pipeline.services.corporate_actions import (
    ensure_splits_known,
    known_splits,
    store_answer_events,
)
from stock_pipeline.services.run_progress import run_tracker
from stock_pipeline.settings import automation as knobs
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.short_sessions import confirmed_by, short_session_notes
from stock_pipeline.warehouse.stored_bars import closes_before_years
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline.yahoo.batch import BatchResult, fetch_history
from stock_pipeline.yahoo.client import YahooClient

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


@dataclass(frozen=True)
class KnownSplits:
    splits: dict[str, list[tuple[date, float]]]
    requests: Counter[str]
    failed: dict[str, str]  # symbol: why its splits could not be refreshed

    def drop_unknown(self, result: BatchResult) -> None:
        """Fail the partitions of symbols whose splits are unknown: their bars cannot be
        put back to as traded, and a wrong basis must not be stored."""
        if not self.failed:
            return
        for outcome in result.outcomes.values():
            symbol = outcome.key.rsplit("|", 1)[-1]
            if symbol in self.failed and outcome.error is None:
                outcome.error = PartitionFailure(
                    "SplitsUnknownError",
                    f"{symbol}: its splits could not be refreshed, so its bars cannot be "
                    f"stored as traded ({self.failed[symbol]})",
                    transient=True,
                )
                outcome.rows = 0
        if not result.frame.empty:
            result.frame = result.frame[~result.frame["symbol"].isin(set(self.failed))]
        if result.events is not None and not result.events.empty:
            result.events = result.events[~result.events["symbol"].isin(set(self.failed))]


def splits_first(
    client: YahooClient,
    database: Lake,
    symbols: list[str],
    yahoo: YahooFinanceResource,
    progress: ProgressTracker | None = None,
) -> KnownSplits:
    """Every split of ``symbols`` up to now, refreshed first where a session opened since
    the last check (at most one request per symbol and trading day), so each answer can be
    stored as traded. The refresh's requests count in the run's live ``progress``."""
    refresh = ensure_splits_known(client, database, symbols, settings.now(), yahoo.max_workers)
    if progress is not None:
        progress.requests(sum(refresh.requests.values()))
    return KnownSplits(known_splits(database, symbols), refresh.requests, refresh.failed)


class IntradayConfig(dg.Config):
    interval: str = Field(
        default=DEFAULT_INTRADAY_INTERVAL,
        description="Bar interval: 1m 2m 5m 15m 30m 60m (= 1h) 90m. Each interval is stored "
        "as its own rows; a partition's metadata names the interval it was materialized with.",
    )


class HistoryConfig(dg.Config):
    interval: str = Field(default="1d", description="1d (daily) or 1wk (weekly) bars.")


def run_partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    """The run's partitions, or a run failure when its key range selects none.

    Dagster checks that both ends of ``--partition-range`` exist, not their order: an
    inverted range reaches the asset as no partition at all, which must not pass as a
    successful sync of nothing.
    """
    keys = list(context.partition_keys)
    if keys:
        return keys
    span = context.partition_key_range
    raise dg.Failure(
        description=(
            f"partition range {span.start}...{span.end} selects no partition: its start comes "
            f"after its end (dates run oldest to newest, symbols in registration order; "
            f"`stock-pipeline symbols list` shows it). Swap the two ends."
        ),
        allow_retries=False,
    )


def _parsed(parse: Callable[[list[str]], Any], keys: list[str]) -> Any:
    """Partition keys as values, or a run failure naming the malformed key."""
    try:
        return parse(keys)
    except ValueError as exc:
        raise dg.Failure(description=f"bad partition key: {exc}", allow_retries=False) from exc


def _checked(normalize: Callable[[str], str], value: str) -> str:
    """A config value normalised, or a run failure saying what is wrong with it."""
    try:
        return normalize(value)
    except StockPipelineError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc


def _progress(
    context: dg.AssetExecutionContext, interval: str, client: YahooClient
) -> ProgressTracker | None:
    """The run's live progress, published to a file (``services.run_progress``): readers
    follow the run without a Dagster event per partition. Its rate is the one the process
    paces Yahoo at as it goes (it adapts), read at each publication."""
    return run_tracker(
        context.run.run_id,
        context.partition_keys,
        context.asset_key.to_user_string(),
        interval,
        client.rate,
        on_error=context.log.warning,
        rate=lambda: client.rate,
    )


def _fetched(
    result: BatchResult, splits: KnownSplits, progress: ProgressTracker | None, client: YahooClient
) -> None:
    """Close a run's fetch: progress told, the splits refresh's requests counted, the Yahoo
    rate reached noted, partitions of symbols whose splits are unknown failed, and nothing
    stored if a stop arrived."""
    result.rate_reached = client.rate
    if progress is not None:
        progress.finish_fetch()
    result.requests.update(splits.requests)
    splits.drop_unknown(result)
    stopping.check()


def _short_notes(
    warehouse: WarehouseResource, frame: pd.DataFrame, interval: str, grace: timedelta
) -> dict[str, dict[str, str | int]]:
    """Per partition about to be stored: whether it is a short session, pending repair or
    confirmed, or repaired (``short_sessions``), for its materialization metadata."""
    refetches = knobs.short_session_refetches()
    if frame.empty or not warehouse.database.exists():
        return short_session_notes(None, frame, interval, grace, refetches)
    with warehouse.connect(read_only=True) as con:
        return short_session_notes(con, frame, interval, grace, refetches)


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
    partitions = _parsed(parse_intraday_keys, run_partition_keys(context))
    with permanent_failures(context, FETCH_RETRY_POLICY):
        client = yahoo.client()
        symbols = sorted({p.symbol for p in partitions})
        progress = _progress(context, interval, client)
        splits = splits_first(client, warehouse.database, symbols, yahoo, progress)
        result = fetch_intraday_for_run(
            context,
            client,
            warehouse,
            partitions,
            interval,
            max_workers=yahoo.max_workers,
            splits=splits.splits,
            progress=progress,
        )
        _fetched(result, splits, progress, client)
        grace = knobs.final_grace()
        notes = _short_notes(warehouse, result.frame, interval, grace)
        confirmed = {k: [interval] for k in confirmed_by(notes)}
        return finish_batch(
            context,
            result,
            INTRADAY_PRICES,
            warehouse,
            extra={"interval": interval},
            tags={INTERVAL_TAG: interval},
            judge=lambda frame: intraday_partition_verdicts(frame, grace, confirmed),
            notes=notes,
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
    a rewrite of history. One Yahoo request per symbol covers every year in the run. Weekly
    bars are aggregated from daily ones; a week belongs to the year of its Monday.
    """
    interval = _checked(normalize_history_interval, config.interval)
    partitions = _parsed(parse_history_keys, run_partition_keys(context))
    with permanent_failures(context, FETCH_RETRY_POLICY):
        client, database = yahoo.client(), warehouse.database
        progress = _progress(context, interval, client)
        symbols = sorted({p.symbol for p in partitions})
        splits = splits_first(client, database, symbols, yahoo, progress)
        result = fetch_history(
            client,
            partitions,
            interval,
            max_workers=yahoo.max_workers,
            splits=splits.splits,
            progress=progress,
        )
        _fetched(result, splits, progress, client)
        answers = result.frame if result.events is None else result.events
        store_answer_events(database, answers, settings.now())
        with warehouse.connect(read_only=True) as con:  # each year's first move is from here
            previous = closes_before_years(con, [(p.symbol, p.year) for p in partitions])
        return finish_batch(
            context,
            result,
            DAILY_PRICES,
            warehouse,
            extra={"interval": interval},
            tags={INTERVAL_TAG: interval},
            judge=partial(history_partition_verdicts, splits=splits.splits, previous=previous),
        )
