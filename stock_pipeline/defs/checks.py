"""Asset checks on stored bars: every partition a run stored, read back from DuckDB.

Each check runs once per run and records ONE result, however many partitions the run
carries: its metadata counts the partitions checked and failed, sums the offending rows per
rule and names the failing partitions (``domain.verdicts.run_verdict``). Checks scoped per
partition would cost Dagster a planned and an evaluated event per check and partition, the
planned ones each listing the whole run (N² bytes), and every asset page would recompute
check status from all of those records (measured in bench B8, docs/operations.md). Each
partition's own verdict is in its materialization metadata (``check/<name>`` entries, judged
by the asset on the bars it wrote). The checks that mean corrupt data (prices out of order,
duplicate bars, bars outside the session) are blocking: a failure fails the run's check
step, so nothing downstream of the asset runs on it.

To add a check: a verdict function per partition in ``domain.verdicts`` (returning
``Verdict``), a spec here, and its name in the partition verdicts the check function
builds; ``_results`` turns every check's verdicts into run results the same way.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

import dagster as dg
import pandas as pd

from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.dagster_private import skip_partition_listing_for_checks
from stock_pipeline.defs.freshness import intraday_prices_fresh
from stock_pipeline.defs.partitions import history_partitions, intraday_partitions
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.defs.reverification import daily_prices_reverification
from stock_pipeline.domain.consistency import DayBar
from stock_pipeline.domain.frame_verdicts import stored_intraday_verdicts
from stock_pipeline.domain.partition_keys import parse_history_keys, parse_intraday_keys
from stock_pipeline.domain.run_keys import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    BLOCKING_CHECKS,
    DAILY_MOVE,
    MATCHES_INTRADAY,
    OHLC_SANE,
    UNIQUE_BARS,
    Verdict,
    daily_consistency,
    daily_sanity,
    move_verdict,
    pick_intraday_day,
    run_verdict,
)
from stock_pipeline.settings import automation as knobs
from stock_pipeline.warehouse.actions import stored_splits
from stock_pipeline.warehouse.short_sessions import confirmed_short
from stock_pipeline.warehouse.stored_bars import closes_before_years
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES, read_slices

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def _spec(name: str, asset: dg.AssetsDefinition, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name, asset=asset, description=description, blocking=name in BLOCKING_CHECKS
    )


RUN_SCOPE = (
    " Evaluated once per run over all its partitions; each partition's verdict is in its "
    "materialization metadata (check/<name>)."
)
INTRADAY_SPECS = [
    _spec(
        OHLC_SANE,
        intraday_prices,
        "Prices are sane: low ≤ open, close ≤ high, all prices set and > 0, volume ≥ 0. A "
        "failure means corrupt data, so it blocks downstream use and fails the run." + RUN_SCOPE,
    ),
    _spec(
        UNIQUE_BARS,
        intraday_prices,
        "No duplicate bars: one row per bar start and per interval slot (09:30 and 09:32 in "
        "5m bars are the same slot). A failure means corrupt data: blocking." + RUN_SCOPE,
    ),
    _spec(
        BARS_IN_SESSION,
        intraday_prices,
        "Every bar belongs where it is stored: dated to its session, inside the regular "
        "session (09:30 to the close), on the interval's grid. Corrupt data: blocking." + RUN_SCOPE,
    ),
    _spec(
        BAR_COUNT,
        intraday_prices,
        "Bar count per interval matches the "
        "NYSE calendar (full day, early close; provisional: bars closed when fetched), "
        "allowing 1% (at least one) all-null bars Yahoo drops." + RUN_SCOPE,
    ),
]
DAILY_SPECS = [
    _spec(
        OHLC_SANE,
        daily_prices,
        "Prices are sane (low ≤ open, close ≤ high, prices > 0, volume ≥ 0) and every "
        "daily bar falls on an NYSE session. Corrupt data: blocking." + RUN_SCOPE,
    ),
    _spec(
        MATCHES_INTRADAY,
        daily_prices,
        "Each day's daily bar agrees with its final intraday bars: close, high and low "
        "within 1%; intraday volume 50-102% of the daily volume (intraday bars miss the "
        "closing auction and off-exchange trades). A warning, not a block. Evaluated once "
        "per run; the partitions that disagree are named in its metadata.",
    ),
    _spec(
        DAILY_MOVE,
        daily_prices,
        "No daily (1d) close moves more than ±40% from the previous stored session's (in "
        "the year before, too) unless a split in between explains it, measured on one share "
        "basis: Yahoo's 100x and unit errors. A warning, not a block; the symbol, date and "
        "both closes are named." + RUN_SCOPE,
    ),
]


def _results(
    context: dg.AssetCheckExecutionContext,
    specs: Sequence[dg.AssetCheckSpec],
    verdicts: Mapping[str, Mapping[str, Verdict]],
) -> Iterator[dg.AssetCheckResult]:
    """One result per selected check for the whole run (``verdicts[key][check name]``).

    The one place where per-partition verdicts become Dagster check results: a check
    added to ``specs`` and to the verdicts is recorded the same way.
    """
    for spec in specs:
        if spec.key not in context.selected_asset_check_keys:
            continue
        verdict = run_verdict({key: by_check[spec.name] for key, by_check in verdicts.items()})
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=verdict.passed,
            metadata={
                name: dg.MetadataValue.json(value) if isinstance(value, dict) else value
                for name, value in verdict.metadata.items()
            },
            description=verdict.description,
            severity=ERROR if spec.blocking else WARN,
        )


def _checked_keys(
    context: dg.AssetCheckExecutionContext, partitions: dg.MultiPartitionsDefinition
) -> list[str]:
    """The partitions to judge: the run's own when it materializes the asset too.

    A run of the checks alone is not partitioned (the checks are per run), so it names its
    partitions with the same tags a price run carries: one partition or a range.
    """
    op = context.op_execution_context
    if op.job_def.partitions_def is not None:
        return list(op.partition_keys)
    tags = context.run.tags
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        span = dg.PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
        return list(
            partitions.get_partition_keys_in_range(span, dynamic_partitions_store=context.instance)
        )
    raise dg.Failure(
        f"this run of the checks names no partitions: tag it {PARTITION_TAG}=<day|SYMBOL> "
        f"or {RANGE_START_TAG}/{RANGE_END_TAG}, or materialize the asset with its checks",
        allow_retries=False,
    )


def _day(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


@dg.multi_asset_check(specs=INTRADAY_SPECS, can_subset=True, compute_kind="duckdb")
def intraday_prices_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """Judge every (day, symbol) partition of the run from the bars DuckDB holds now."""
    skip_partition_listing_for_checks(context)
    partitions = parse_intraday_keys(_checked_keys(context, intraday_partitions))
    slices = [{"symbol": p.symbol, "session_date": p.day} for p in partitions]
    with warehouse.connect(read_only=True) as con:
        frame = read_slices(con, INTRADAY_PRICES, slices)
        days = [p.day for p in partitions]
        confirmed = (
            confirmed_short(con, sorted({p.symbol for p in partitions}), min(days), max(days))
            if days
            else {}
        )
    verdicts = stored_intraday_verdicts(frame, partitions, knobs.final_grace(), confirmed)
    failed = sum(not v.passed for by_check in verdicts.values() for v in by_check.values())
    context.log.info("%d partition(s) checked, %d failed check(s)", len(verdicts), failed)
    yield from _results(context, INTRADAY_SPECS, verdicts)


def _intraday_days(
    con_frame: pd.DataFrame, grace: timedelta
) -> dict[tuple[str, pd.Timestamp], DayBar]:
    """Per (symbol, day), the aggregate of the interval chosen to compare with."""
    chosen: dict[tuple[str, pd.Timestamp], DayBar] = {}
    for (symbol, day), candidates in con_frame.groupby(["symbol", "session_date"]):
        row = pick_intraday_day(candidates, grace)
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
) -> Iterator[dg.AssetCheckResult]:
    """Judge every (year, symbol) partition of the run; daily bars against intraday days,
    and each close against the previous stored one (across the year boundary too)."""
    skip_partition_listing_for_checks(context)
    partitions = parse_history_keys(_checked_keys(context, history_partitions))
    slices = [{"symbol": p.symbol, "year": p.year} for p in partitions]
    symbols = sorted({p.symbol for p in partitions})
    years = sorted({p.year for p in partitions})
    with warehouse.connect(read_only=True) as con:
        frame = read_slices(con, DAILY_PRICES, slices)
        by_day = con.execute(INTRADAY_BY_DAY_SQL, [symbols, years]).df()
        previous = closes_before_years(con, [(p.symbol, p.year) for p in partitions])
        splits = stored_splits(con, symbols)
    grace = knobs.final_grace()
    intraday = _intraday_days(by_day, grace)
    groups: dict[tuple[str, int], pd.DataFrame] = {}
    for key, rows in frame.groupby(["symbol", "year"]):
        symbol, year = cast(tuple[str, int], key)
        groups[(str(symbol), int(year))] = rows
    verdicts: dict[str, dict[str, Verdict]] = {}
    for p in partitions:
        rows = groups.get((p.symbol, p.year), frame.iloc[0:0])
        days = {k[1].date(): bar for k, bar in intraday.items() if k[0] == p.symbol}
        daily = rows[rows["interval"] == "1d"]
        verdicts[p.key] = {
            OHLC_SANE: daily_sanity(rows),
            MATCHES_INTRADAY: daily_consistency(daily, days, grace),
            DAILY_MOVE: move_verdict(
                p.symbol, daily, previous.get((p.symbol, p.year)), splits.get(p.symbol, [])
            ),
        }
    yield from _results(context, DAILY_SPECS, verdicts)


ASSET_CHECKS: list[dg.AssetChecksDefinition] = [
    intraday_prices_checks,
    daily_prices_checks,
    intraday_prices_fresh,
    daily_prices_reverification,
]
