"""Corporate actions: every split and dividend of the active symbols, as data."""

import dagster as dg
from pydantic import Field

from stock_pipeline.defs.assets.reference import REFERENCE_GROUP
from stock_pipeline.defs.concurrency import FETCH_RETRY_POLICY, YAHOO_POOL
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.domain.symbols import parse_symbols
from stock_pipeline.services.corporate_actions import refresh_actions
from stock_pipeline.services.quarantine import active_symbols
from stock_pipeline.services.registry import registered_symbols


class ActionsConfig(dg.Config):
    symbols: list[str] = Field(
        default_factory=list,
        description="Symbols to refresh (default: every active registered symbol).",
    )


@dg.asset(
    group_name=REFERENCE_GROUP,
    kinds={"duckdb"},
    pool=YAHOO_POOL,
    retry_policy=FETCH_RETRY_POLICY,
)
def corporate_actions(
    context: dg.AssetExecutionContext,
    config: ActionsConfig,
    yahoo: YahooFinanceResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every split (new shares per old share) and dividend (cash per share as paid) of each
    symbol, one row per event with when it was first seen. One Yahoo request per symbol;
    price fetches also add the events their own answers carry. The adjusted price views
    are computed from these rows, so a new event changes them without rewriting a price."""
    if config.symbols:
        symbols = parse_symbols(config.symbols)
    else:
        symbols = active_symbols(context.instance, registered_symbols(context.instance))
    if not symbols:
        raise dg.Failure(
            "no symbols to refresh: add some with `stock-pipeline symbols add AAPL`",
            allow_retries=False,
        )
    result = refresh_actions(
        yahoo.client(), warehouse.database, symbols, max_workers=yahoo.max_workers
    )
    metadata: dict[str, dg.RawMetadataValue] = {
        "symbols": len(result.refreshed),
        "new_events": result.new_events,
        "yahoo_requests": sum(result.requests.values()),
        "failed_symbols": ", ".join(sorted(result.failed)) or "none",
    }
    if result.failed:
        reasons = "; ".join(f"{s}: {why}" for s, why in sorted(result.failed.items()))
        raise dg.Failure(
            f"corporate actions of {len(result.failed)} symbol(s) failed (the others were "
            f"stored): {reasons}",
            metadata=metadata,
            allow_retries=False,  # transient failures were already retried per request
        )
    return dg.MaterializeResult(metadata=metadata)
