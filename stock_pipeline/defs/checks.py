"""Asset checks on stored bars: every partition a run stored, read back from DuckDB.

Each check is per partition (``AssetCheckSpec(partitions_def=...)``, a preview in Dagster
1.13). Our runs carry many partitions (single-run backfills) and Dagster 1.13 attributes
an ``AssetCheckResult`` to a partition only in a one-partition run, so the checks emit one
``AssetCheckEvaluation`` per partition, each naming the partition's latest materialization:
that is what makes the UI show it as the partition's current result. The checks that mean
corrupt data (prices out of order, duplicate bars, bars outside the session) are blocking.
"""

import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import dagster as dg
import pandas as pd

from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.dagster_private import target_materialization_data
from stock_pipeline.defs.freshness import intraday_prices_fresh
from stock_pipeline.defs.partitions import history_partitions, intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.consistency import DayBar
from stock_pipeline.domain.partition_keys import parse_history_keys, parse_intraday_keys
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    MATCHES_INTRADAY,
    OHLC_SANE,
    UNIQUE_BARS,
    Verdict,
    daily_consistency,
    daily_sanity,
    intraday_verdicts,
    pick_intraday_day,
)
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES, read_slices

# Per-partition checks are the point of these checks; Dagster flags the parameter as a
# preview on every spec.
warnings.filterwarnings(
    "ignore",
    message=r"Specifying a partitions_def on an AssetCheckSpec",
    category=dg.PreviewWarning,
)

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def _spec(
    name: str, asset: dg.AssetsDefinition, partitions: dg.PartitionsDefinition, description: str
) -> dg.AssetCheckSpec:
    blocking = name in (OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION)
    return dg.AssetCheckSpec(
        name, asset=asset, description=description, blocking=blocking, partitions_def=partitions
    )


INTRADAY_SPECS = [
    _spec(
        OHLC_SANE,
        intraday_prices,
        intraday_partitions,
        "Prices are sane: low ≤ open, close ≤ high, all prices set and > 0, volume ≥ 0. A "
        "failure means corrupt data, so it blocks downstream use and fails the run.",
    ),
    _spec(
        UNIQUE_BARS,
        intraday_prices,
        intraday_partitions,
        "No duplicate bars: one row per bar start and per interval slot (09:30 and 09:32 in "
        "5m bars are the same slot). A failure means corrupt data: blocking.",
    ),
    _spec(
        BARS_IN_SESSION,
        intraday_prices,
        intraday_partitions,
        "Every bar belongs where it is stored: dated to its session, inside the regular "
        "session (09:30 to the close), on the interval's grid. Corrupt data: blocking.",
    ),
    _spec(
        BAR_COUNT,
        intraday_prices,
        intraday_partitions,
        "Bar count per interval matches the "
        "NYSE calendar (full day, early close; provisional: bars closed when fetched), "
        "allowing 1% (at least one) all-null bars Yahoo drops.",
    ),
]
DAILY_SPECS = [
    _spec(
        OHLC_SANE,
        daily_prices,
        history_partitions,
        "Prices are sane (low ≤ open, close ≤ high, prices > 0, volume ≥ 0) and every "
        "daily bar falls on an NYSE session. Corrupt data: blocking.",
    ),
    _spec(
        MATCHES_INTRADAY,
        daily_prices,
        history_partitions,
        "Each day's daily bar agrees with its final intraday bars: close, high and low "
        "within 1%; intraday volume 50-102% of the daily volume (intraday bars miss the "
        "closing auction and off-exchange trades). A warning, not a block.",
    ),
]


def _targets(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: Sequence[str]
) -> dict[str, Any]:
    """Each partition's latest materialization, in two queries."""
    latest = instance.get_latest_storage_id_by_partition(
        asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(keys)
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=list(latest.values())),
        limit=len(latest),
    ).records
    return {str(r.partition_key): target_materialization_data(r) for r in records}


def _evaluations(
    context: dg.AssetCheckExecutionContext,
    specs: Sequence[dg.AssetCheckSpec],
    verdicts: Mapping[str, Mapping[str, Verdict]],
) -> Iterator[dg.AssetCheckEvaluation]:
    """One evaluation per selected check and partition (``verdicts[key][check name]``)."""
    selected = [s for s in specs if s.key in context.selected_asset_check_keys]
    if not selected:
        return
    asset_key = selected[0].asset_key
    targets = _targets(context.instance, asset_key, list(verdicts))
    for key, by_check in verdicts.items():
        for spec in selected:
            verdict = by_check[spec.name]
            yield dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=spec.name,
                passed=verdict.passed,
                metadata=verdict.metadata,
                description=verdict.description,
                severity=ERROR if spec.blocking else WARN,
                blocking=spec.blocking,
                partition=key,
                target_materialization_data=targets.get(key),
            )


def _day(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


@dg.multi_asset_check(specs=INTRADAY_SPECS, can_subset=True, compute_kind="duckdb")
def intraday_prices_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckEvaluation]:
    """Judge every (day, symbol) partition of the run from the bars DuckDB holds now."""
    partitions = parse_intraday_keys(context.partition_keys)
    slices = [{"symbol": p.symbol, "session_date": p.day} for p in partitions]
    with warehouse.connect(read_only=True) as con:
        frame = read_slices(con, INTRADAY_PRICES, slices)
    groups = {
        (str(symbol), _day(day).date()): rows
        for (symbol, day), rows in frame.groupby(["symbol", "session_date"])
    }
    verdicts = {
        p.key: intraday_verdicts(p.day, groups.get((p.symbol, p.day), frame.iloc[0:0]))
        for p in partitions
    }
    failed = sum(not v.passed for by_check in verdicts.values() for v in by_check.values())
    context.log.info("%d partition(s) checked, %d failed check(s)", len(verdicts), failed)
    yield from _evaluations(context, INTRADAY_SPECS, verdicts)


def _intraday_days(
    con_frame: pd.DataFrame,
) -> dict[tuple[str, pd.Timestamp], DayBar]:
    """Per (symbol, day), the aggregate of the interval chosen to compare with."""
    chosen: dict[tuple[str, pd.Timestamp], DayBar] = {}
    for (symbol, day), candidates in con_frame.groupby(["symbol", "session_date"]):
        row = pick_intraday_day(candidates)
        if row is not None:
            chosen[(str(symbol), _day(day))] = DayBar(
                float(row["high"]), float(row["low"]), float(row["close"]), int(row["volume"])
            )
    return chosen


INTRADAY_BY_DAY_SQL = """
    SELECT symbol, session_date, interval, count(*) AS rows, max(high) AS high,
           min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume,
           min(fetched_at) AS fetched_at
    FROM intraday_prices
    WHERE symbol IN (SELECT unnest(?)) AND year(session_date) IN (SELECT unnest(?))
    GROUP BY symbol, session_date, interval
"""


@dg.multi_asset_check(specs=DAILY_SPECS, can_subset=True, compute_kind="duckdb")
def daily_prices_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckEvaluation]:
    """Judge every (year, symbol) partition of the run; daily bars against intraday days."""
    partitions = parse_history_keys(context.partition_keys)
    slices = [{"symbol": p.symbol, "year": p.year} for p in partitions]
    symbols = sorted({p.symbol for p in partitions})
    years = sorted({p.year for p in partitions})
    with warehouse.connect(read_only=True) as con:
        frame = read_slices(con, DAILY_PRICES, slices)
        by_day = con.execute(INTRADAY_BY_DAY_SQL, [symbols, years]).df()
    intraday = _intraday_days(by_day)
    groups: dict[tuple[str, int], pd.DataFrame] = {}
    for key, rows in frame.groupby(["symbol", "year"]):
        symbol, year = cast(tuple[str, int], key)
        groups[(str(symbol), int(year))] = rows
    verdicts: dict[str, dict[str, Verdict]] = {}
    for p in partitions:
        rows = groups.get((p.symbol, p.year), frame.iloc[0:0])
        days = {k[1].date(): bar for k, bar in intraday.items() if k[0] == p.symbol}
        verdicts[p.key] = {
            OHLC_SANE: daily_sanity(rows),
            MATCHES_INTRADAY: daily_consistency(rows[rows["interval"] == "1d"], days),
        }
    yield from _evaluations(context, DAILY_SPECS, verdicts)


ASSET_CHECKS: list[dg.AssetChecksDefinition] = [
    intraday_prices_checks,
    daily_prices_checks,
    intraday_prices_fresh,
]
