"""Re-verification of stored daily history: a WARN check on ``daily_prices`` that repairs.

Weekly (``reverify_schedule``) or from ``stock-pipeline reverify``, the ``matches_yahoo``
check asks Yahoo once per active symbol for its daily history over every stored year and
compares it with the ``daily_prices_adjusted`` view (``services.reverification``). It
records ONE evaluation per run, like the other checks (``defs.checks``: one result per
run, not per partition): failed when any symbol differs beyond tolerance or could not be
checked, its metadata naming each such symbol with counts and its first differing dates.
The years that differ are stored again from the same answer, with the weekly (1wk) years
aggregated from them that the answer covers, each logged as a materialization of its
``daily_prices`` partition (tagged with its interval), so the partition's latest
materialization is the write that holds its rows. A warning, never a block.

The check runs only in ``reverify_job``: ``daily_prices_job`` leaves it out, and a run that
materializes ``daily_prices`` with all its checks (the UI's Materialize) skips it, saying
so, rather than re-fetching every symbol's history on each sync.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_pipeline.defs.assets.prices import daily_prices
from stock_pipeline.defs.concurrency import YAHOO_POOL
from stock_pipeline.defs.dagster_private import skip_partition_listing_for_checks
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.domain.reverification import (
    ADJ_CLOSE_TOLERANCE,
    PRICE_TOLERANCE,
    VOLUME_TOLERANCE,
)
from stock_pipeline.domain.run_keys import INTERVAL_TAG, PARTITION_TAG, RANGE_START_TAG
from stock_pipeline.domain.symbols import parse_symbols
from stock_pipeline.domain.trading_calendar import year_final_after
from stock_pipeline.domain.verdicts import history_partition_verdicts, partition_summary
from stock_pipeline.domain.weeks import WEEK_INTERVAL, history_span
from stock_pipeline.services.quarantine import active_symbols
from stock_pipeline.services.registry import registered_symbols
from stock_pipeline.services.reverification import Reverification, SymbolCheck, reverify
from stock_pipeline.settings import automation as knobs

MATCHES_YAHOO = "matches_yahoo"
SHOWN = 20  # symbols named in the description; the metadata has them all
REVERIFY_CHECK_OP = "daily_prices_reverification"
MATCHES_YAHOO_SPEC = dg.AssetCheckSpec(
    MATCHES_YAHOO,
    asset=daily_prices,
    blocking=False,
    description=(
        "Stored daily bars still match Yahoo: every active symbol's daily history is fetched "
        "again (one request per symbol, over its stored years) and compared with "
        f"daily_prices_adjusted on the same dates (prices relative {PRICE_TOLERANCE:g}, "
        f"adj_close {ADJ_CLOSE_TOLERANCE:g}, volume {VOLUME_TOLERANCE:g} or one share). A "
        "difference (a Yahoo correction, a missed split or dividend) is a warning naming "
        "the symbol and dates; the affected years are stored again from the fresh answer, "
        "with the weekly years built from them where it covers their weeks, and show as new "
        "materializations. Runs weekly in reverify_job only; evaluated "
        "once per run."
    ),
)


class ReverifyConfig(dg.Config):
    symbols: list[str] = Field(
        default_factory=list,
        description="Symbols to re-verify (default: every active registered symbol).",
    )
    dry_run: bool = Field(
        default=False, description="Compare and report only: store nothing, repair nothing."
    )


def _metadata(found: Reverification) -> dict[str, Any]:
    per_symbol = {c.symbol: c.summary() for c in found.differing}
    return {
        "symbols_checked": len(found.symbols),
        "symbols_differing": len(found.differing),
        "symbols_failed": len(found.failed),
        "symbols_without_daily_bars": len(found.skipped),
        "dates_compared": sum(c.comparison.compared for c in found.symbols.values()),
        "differing_dates": sum(len(c.comparison.dates) for c in found.differing),
        "differing": dg.MetadataValue.json(per_symbol),
        "failed": dg.MetadataValue.json(found.failed),
        "partitions_repaired": len(found.repaired_keys),
        "weekly_partitions_rebuilt": len(found.weekly_rebuilt_keys),
        "weekly_partitions_to_resync": len(found.weekly_to_resync_keys),
        "new_events": found.new_events,
        "dry_run": found.dry_run,
        "yahoo_requests": sum(found.requests.values()),
        "yahoo_price_requests": found.requests["chart"],
    }


def _description(found: Reverification) -> str:
    if not found.differing and not found.failed:
        return (
            f"{len(found.symbols)} symbol(s), "
            f"{sum(c.comparison.compared for c in found.symbols.values())} date(s): "
            "stored daily bars match Yahoo"
        )
    parts = []
    for check in found.differing:
        dates = check.comparison.dates
        shown = ", ".join(str(d) for d in dates[:3]) + (" …" if len(dates) > 3 else "")
        fix = (
            f"; years {', '.join(map(str, check.repaired))} stored again" if check.repaired else ""
        )
        if check.weekly_rebuilt:
            fix += f", weekly {', '.join(map(str, check.weekly_rebuilt))} rebuilt"
        if check.weekly_stale:
            fix += f", weekly {', '.join(map(str, check.weekly_stale))} to sync again"
        parts.append(f"{check.symbol}: {len(dates)} date(s) differ ({shown}){fix}")
    parts += [f"{symbol}: not checked ({why})" for symbol, why in sorted(found.failed.items())]
    more = f"; and {len(parts) - SHOWN} more (metadata: differing, failed)"
    return "; ".join(parts[:SHOWN]) + (more if len(parts) > SHOWN else "")


def _partitions_written(
    symbol: str,
    written: pd.DataFrame | None,
    years: list[int],
    interval: str,
    differing: list[date],
) -> dict[str, dict[str, Any]]:
    """Materialization metadata of each partition of ``interval`` written again, as a sync
    records it: rows, first and last bar, finality (the answer's arrival after the span's
    last close plus grace), the partition's check verdicts (``check/…``), plus which dates
    of it differed."""
    if written is None or written.empty:
        return {}
    grace = knobs.final_grace()
    verdicts = history_partition_verdicts(written)
    out: dict[str, dict[str, Any]] = {}
    for year in years:
        rows = written[written["year"] == year]
        key = history_key(symbol, year)
        days = pd.to_datetime(rows["date"]).dt.date
        arrived = pd.Timestamp(rows["fetched_at"].max()).to_pydatetime()
        first, last = history_span(year, interval)
        out[key] = {
            "rows": len(rows),
            "yahoo_requests": 1,  # the symbol's one request, shared by all it wrote
            "final": arrived >= year_final_after(year, grace, last),
            "interval": interval,
            "first_bar": str(days.min()),
            "last_bar": str(days.max()),
            "reverified": True,
            "differing_dates": [str(d) for d in differing if first <= d <= last][:20],
            **partition_summary(verdicts.get(key, {})),
        }
    return out


def _repaired_partitions(check: SymbolCheck) -> dict[str, dict[str, Any]]:
    """The daily (1d) partitions stored again."""
    dates = check.comparison.dates
    return _partitions_written(check.symbol, check.written, check.repaired, "1d", dates)


def _rebuilt_weekly_partitions(check: SymbolCheck) -> dict[str, dict[str, Any]]:
    """The weekly (1wk) partitions rebuilt from the same answer (no request of their own)."""
    dates = check.changed_days
    return {
        key: {**meta, "rebuilt_from_daily": True}
        for key, meta in _partitions_written(
            check.symbol, check.weekly_written, check.weekly_rebuilt, WEEK_INTERVAL, dates
        ).items()
    }


def _skip_reason(context: dg.AssetCheckExecutionContext) -> str | None:
    """Why this run must not re-verify: it materializes daily_prices partitions itself
    (a partitioned job, the UI's asset job with daily_prices selected, partition tags)."""
    run = context.run
    materializes = (
        context.op_execution_context.job_def.partitions_def is not None
        or daily_prices.key in (run.asset_selection or ())
        or any(tag in run.tags for tag in (PARTITION_TAG, RANGE_START_TAG))
    )
    if materializes:
        return "this run materializes daily_prices; re-verification runs in reverify_job only"
    return None


@dg.multi_asset_check(
    specs=[MATCHES_YAHOO_SPEC],
    name=REVERIFY_CHECK_OP,
    can_subset=True,
    compute_kind="yahoo",
    pool=YAHOO_POOL,
)
def daily_prices_reverification(
    context: dg.AssetCheckExecutionContext,
    config: ReverifyConfig,
    yahoo: YahooFinanceResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.AssetCheckResult]:
    """Fetch every active symbol's stored years again, compare, repair what differs."""
    skip_partition_listing_for_checks(context)
    skip = _skip_reason(context)
    if skip:
        context.log.info("matches_yahoo not evaluated: %s", skip)
        return
    registered = registered_symbols(context.instance)
    if config.symbols:
        symbols = parse_symbols(config.symbols)
        unknown = [s for s in symbols if s not in set(registered)]
        if unknown:  # a repair is recorded against the symbol's partitions
            raise dg.Failure(
                f"not registered: {', '.join(unknown)} (`stock-pipeline symbols list`); "
                "only registered symbols are re-verified",
                allow_retries=False,
            )
    else:
        symbols = active_symbols(context.instance, registered)
    found = reverify(
        yahoo.client(),
        warehouse.database,
        symbols,
        repair=not config.dry_run,
        max_workers=yahoo.max_workers,
        warn=context.log.warning,  # in the run's event log, dates and values included
    )
    for check in found.symbols.values():
        written = [
            ("1d", "stored again by re-verification: Yahoo's answer differed", key, meta)
            for key, meta in _repaired_partitions(check).items()
        ] + [
            (
                WEEK_INTERVAL,
                "weekly bars rebuilt by re-verification from the corrected daily answer",
                key,
                meta,
            )
            for key, meta in _rebuilt_weekly_partitions(check).items()
        ]
        for interval, description, key, metadata in written:
            context.op_execution_context.log_event(
                dg.AssetMaterialization(
                    asset_key=daily_prices.key,
                    partition=key,
                    description=description,
                    tags={INTERVAL_TAG: interval},
                    metadata=metadata,
                )
            )
    context.log.info(
        "re-verified %d symbol(s): %d differ, %d failed, %d partition(s) stored again, "
        "%d weekly partition(s) rebuilt, %d left to a weekly sync, %d Yahoo request(s)",
        len(found.symbols),
        len(found.differing),
        len(found.failed),
        len(found.repaired_keys),
        len(found.weekly_rebuilt_keys),
        len(found.weekly_to_resync_keys),
        sum(found.requests.values()),
    )
    yield dg.AssetCheckResult(
        asset_key=daily_prices.key,
        check_name=MATCHES_YAHOO,
        passed=not found.differing and not found.failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=_description(found),
        metadata=_metadata(found),
    )
