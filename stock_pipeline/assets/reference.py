"""Reference data: the symbol universe with its profile, and the latest quotes."""

import dagster as dg
import pandas as pd

from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.partitions import SYMBOLS, symbols_partitions
from stock_pipeline.resources import YahooFinanceResource

REFERENCE_GROUP = "reference_data"


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse_io_manager",
    group_name=REFERENCE_GROUP,
    kinds={"duckdb", "pandas"},
)
def stocks(context: dg.AssetExecutionContext, yahoo: YahooFinanceResource) -> pd.DataFrame:
    """The registered symbols (the seed's "active stocks") with name, exchange, currency,
    sector and industry from Yahoo."""
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
        )
    return pd.DataFrame(rows)


@dg.asset(
    io_manager_key="warehouse_io_manager",
    group_name=REFERENCE_GROUP,
    kinds={"duckdb", "pandas"},
)
def current_prices(context: dg.AssetExecutionContext, yahoo: YahooFinanceResource) -> pd.DataFrame:
    """The latest price of every registered symbol, a few hundred symbols per Yahoo request."""
    symbols = sorted(context.instance.get_dynamic_partitions(SYMBOLS))
    if not symbols:
        raise dg.Failure("no symbols registered: add some with `stock-pipeline symbols add AAPL`")
    client = yahoo.client()
    with client.meter() as meter:
        frame = client.current_prices(symbols)
    missing = sorted(set(symbols) - set(frame["symbol"]))
    context.add_output_metadata(
        {
            "symbols": len(frame),
            "yahoo_requests": meter.total,
            "missing_symbols": ", ".join(missing) or "none",
        }
    )
    if missing:
        context.log.warning("Yahoo returned no quote for: %s", ", ".join(missing))
    return frame
