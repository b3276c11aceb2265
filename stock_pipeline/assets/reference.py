"""Reference data: the symbol universe with its profile, and the latest quotes."""

import dagster as dg
import pandas as pd

from stock_pipeline.assets.previews import frame_table
from stock_pipeline.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.domain.failures import all_transient
from stock_pipeline.partitions import SYMBOLS, symbols_partitions
from stock_pipeline.resources import YahooFinanceResource

REFERENCE_GROUP = "reference_data"


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse_io_manager",
    group_name=REFERENCE_GROUP,
    kinds={"duckdb", "pandas"},
    pool=YAHOO_POOL,
    retry_policy=FETCH_RETRY_POLICY,
)
def stocks(context: dg.AssetExecutionContext, yahoo: YahooFinanceResource) -> pd.DataFrame:
    """Profile of each registered symbol: name, exchange, currency, sector and industry,
    from Yahoo. One partition per symbol; `stock-pipeline symbols add` creates it."""
    client = yahoo.client()
    rows, failures = [], {}
    for symbol in context.partition_keys:
        try:
            info = client.stock_info(symbol)
        except StockPipelineError as exc:
            failures[symbol] = f"{type(exc).__name__}: {exc}"
            continue
        rows.append(
            {
                "symbol": symbol,
                "long_name": info["longName"],
                "short_name": info["shortName"],
                "exchange": info["exchange"],
                "currency": info["currency"],
                "sector": info["sector"],
                "industry": info["industry"],
                "quote_type": info["quoteType"],
            }
        )
    if failures:
        raise dg.Failure(
            description="profile lookups failed: "
            + "; ".join(f"{s}: {r}" for s, r in sorted(failures.items())),
            metadata={"failed": dg.MetadataValue.json(failures)},
            allow_retries=all_transient(failures.values()),
        )
    for row in rows:
        context.add_asset_metadata(
            {"profile": frame_table(pd.DataFrame([row]))}, partition_key=row["symbol"]
        )
    return pd.DataFrame(rows)


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
