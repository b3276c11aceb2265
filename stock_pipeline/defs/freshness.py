"""Freshness of intraday bars, demanded on trading days only.

At any instant the calendar says which bar must already be stored (``newest_bar_due``:
the newest bar closed ``lag`` ago, which stays the previous session's last bar over
weekends and holidays). The check compares every active symbol's newest stored bar at the
scheduled interval with it. It runs after every intraday sync and, from
``freshness_check_schedule``, every hour of a trading day, so a sync that never happened
shows up too.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
from pydantic import Field

from stock_pipeline import settings
from stock_pipeline.defs.assets.prices import intraday_prices
from stock_pipeline.defs.dagster_private import skip_partition_listing_for_checks
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.intervals import DEFAULT_INTRADAY_INTERVAL
from stock_pipeline.domain.run_keys import as_of_run_config
from stock_pipeline.domain.session_rules import newest_bar_due
from stock_pipeline.domain.trading_calendar import NEW_YORK, is_session
from stock_pipeline.services.quarantine import active_symbols
from stock_pipeline.services.registry import registered_symbols

FRESH = "fresh"
# Hourly syncs store bars up to an hour old; a quarter of an hour more lets a run finish.
DEFAULT_LAG_MINUTES = 75
STALE_SHOWN = 20

NEWEST_BARS_SQL = """
    SELECT symbol, max(ts) AS newest FROM intraday_prices
    WHERE interval = ? AND symbol IN (SELECT unnest(?)) GROUP BY symbol
"""


class FreshnessConfig(dg.Config):
    lag_minutes: int = Field(
        default=DEFAULT_LAG_MINUTES,
        description="How long after a bar closes it must be stored.",
    )
    as_of: str | None = Field(
        default=None, description="Judge as of this ISO instant (UTC if no offset); unset: now."
    )


def stale_symbols(
    symbols: Sequence[str], newest: Mapping[str, pd.Timestamp], due: pd.Timestamp
) -> dict[str, str]:
    """Symbols whose newest bar starts before ``due``, with that bar (or "none stored")."""
    stale = {}
    for symbol in symbols:
        bar = newest.get(symbol)
        if bar is None:
            stale[symbol] = "none stored"
        elif bar < due:
            stale[symbol] = bar.tz_convert(NEW_YORK).isoformat()
    return stale


def _as_of(config: FreshnessConfig) -> datetime:
    if config.as_of is None:
        return settings.now()
    moment = datetime.fromisoformat(config.as_of)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dg.asset_check(asset=intraday_prices, name=FRESH, compute_kind="duckdb")
def intraday_prices_fresh(
    context: dg.AssetCheckExecutionContext,
    config: FreshnessConfig,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Bars are fresh: every active symbol has its 5m bars up to the bar that closed 75
    minutes ago (the allowed lag) on the NYSE calendar. On weekends and holidays nothing new
    is expected. A failure (a warning) means the hourly sync is not running or failing."""
    skip_partition_listing_for_checks(context)
    now = _as_of(config)
    due = newest_bar_due(now, DEFAULT_INTRADAY_INTERVAL, timedelta(minutes=config.lag_minutes))
    symbols = active_symbols(context.instance, registered_symbols(context.instance))
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(NEWEST_BARS_SQL, [DEFAULT_INTRADAY_INTERVAL, symbols]).df()
    newest = {str(s): pd.Timestamp(ts).tz_convert("UTC") for s, ts in rows.itertuples(index=False)}
    stale = stale_symbols(symbols, newest, due)
    shown = ", ".join(f"{s} ({bar})" for s, bar in sorted(stale.items())[:STALE_SHOWN])
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(stale)} of {len(symbols)} symbol(s) lack the {DEFAULT_INTRADAY_INTERVAL} bar "
            f"of {due.tz_convert(NEW_YORK):%Y-%m-%d %H:%M} New York: {shown}"
            if stale
            else f"{len(symbols)} symbol(s) hold the bars due by "
            f"{now.astimezone(NEW_YORK):%Y-%m-%d %H:%M} New York"
        ),
        metadata={
            "symbols": len(symbols),
            "stale_symbols": len(stale),
            "newest_bar_due": due.tz_convert(NEW_YORK).isoformat(),
            "interval": DEFAULT_INTRADAY_INTERVAL,
        },
    )


intraday_freshness_job = dg.define_asset_job(
    "intraday_freshness_job",
    selection=dg.AssetSelection.checks(intraday_prices_fresh),
    description="Evaluate the freshness of intraday bars (no fetching).",
)


@dg.schedule(
    job=intraday_freshness_job,
    cron_schedule="45 9-17 * * 1-5",
    execution_timezone="America/New_York",
    description="Hourly on trading days, 09:45-17:45 New York: runs the `fresh` check on "
    "intraday_prices (fetches nothing), so a sync that never ran shows up as stale bars.",
)
def freshness_check_schedule(
    context: dg.ScheduleEvaluationContext,
) -> dg.RunRequest | dg.SkipReason:
    moment = context.scheduled_execution_time
    day = moment.astimezone(NEW_YORK).date()
    if not is_session(day):
        return dg.SkipReason(f"{day}: NYSE closed; freshness is judged on trading days only")
    return dg.RunRequest(
        run_key=None,
        run_config=as_of_run_config("intraday_prices_fresh", moment.isoformat()),
    )


FRESHNESS_SCHEDULES = [freshness_check_schedule]
