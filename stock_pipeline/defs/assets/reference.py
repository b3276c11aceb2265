"""Reference data: the symbol universe with its profile, and the latest quotes."""

import dagster as dg
import pandas as pd

from stock_pipeline.defs.assets.outcomes import finish_batch
from stock_pipeline.defs.assets.previews import frame_table
from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.defs.partitions import SYMBOLS, symbols_partitions
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.warehouse.tables import STOCKS
from stock_pipeline.yahoo.batch import BatchResult, PartitionOutcome

REFERENCE_GROUP = "reference_data"
# stocks table column → the field of yfinance's ``info`` it comes from
PROFILE_FIELDS = {
    "long_name": "longName",
    "short_name": "shortName",
    "exchange": "exchange",
    "currency": "currency",
    "sector": "sector",
    "industry": "industry",
    "quote_type": "quoteType",
}


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse_io_manager",
    group_name=REFERENCE_GROUP,
    kinds={"duckdb", "pandas"},
    pool=YAHOO_POOL,
    retry_policy=FETCH_RETRY_POLICY,
)
def stocks(
    context: dg.AssetExecutionContext, yahoo: YahooFinanceResource, warehouse: WarehouseResource
) -> pd.DataFrame:
    """Profile of each registered symbol: name, exchange, currency, sector and industry,
    from Yahoo. One partition per symbol; `stock-pipeline symbols add` creates it.

    One symbol's failed lookup never loses the others: they are stored, and the run fails
    naming the failed symbols (as the price assets do)."""
    client = yahoo.client()
    result = BatchResult(frame=pd.DataFrame())
    rows = []
    for symbol in context.partition_keys:
        error: PartitionFailure | None = None
        with client.meter() as meter:
            try:
                info = client.stock_info(symbol)
            except StockPipelineError as exc:
                error = PartitionFailure.from_error(exc)
        result.requests.update(meter.counts)
        result.outcomes[symbol] = PartitionOutcome(
            symbol, rows=0 if error else 1, requests=meter.total, error=error
        )
        if error is not None:
            continue
        row = {column: info[field] for column, field in PROFILE_FIELDS.items()}
        rows.append({"symbol": symbol, **row})
        context.add_asset_metadata(
            {"profile": frame_table(pd.DataFrame([rows[-1]]))}, partition_key=symbol
        )
    result.frame = pd.DataFrame(rows, columns=["symbol", *PROFILE_FIELDS])
    return finish_batch(context, result, STOCKS, warehouse, extra={}, tags={})


@dg.asset(
    io_manager_key="warehouse_io_manager",
    group_name=REFERENCE_GROUP,
    kinds={"duckdb", "pandas"},
    pool=YAHOO_POOL,
    retry_policy=FETCH_RETRY_POLICY,
)
def current_prices(context: dg.AssetExecutionContext, yahoo: YahooFinanceResource) -> pd.DataFrame:
    """Latest quote of every registered symbol (price, previous close, day volume, market
    state). Not partitioned: each run replaces all quotes, a few hundred symbols per request."""
    symbols = sorted(context.instance.get_dynamic_partitions(SYMBOLS))
    if not symbols:
        raise dg.Failure(
            "no symbols registered: add some with `stock-pipeline symbols add AAPL`",
            allow_retries=False,
        )
    client = yahoo.client()
    with client.meter() as meter:
        try:
            frame = client.current_prices(symbols)
        except StockPipelineError as exc:
            raise dg.Failure(str(exc), allow_retries=exc.transient) from exc
    missing = sorted(set(symbols) - set(frame["symbol"]))
    context.add_output_metadata(
        {
            "symbols": len(frame),
            "yahoo_requests": meter.total,
            "missing_symbols": ", ".join(missing) or "none",
            "preview": frame_table(frame.sort_values("symbol"), limit=10),
        }
    )
    if missing:
        context.log.warning("Yahoo returned no quote for: %s", ", ".join(missing))
    return frame
