"""B4: finding the missing or incomplete (symbol, day) partitions of 500 symbols × 60 days.

Measured: what the missing-partitions sensor does with the warehouse — open the DuckDB file
read-only, ``completeness.slice_states`` for every (symbol, day), ``backfill.gaps`` to pick
the partitions to fetch — against a warehouse holding the 5m bars of 500 × 60 sessions
(~2.3 M rows) with some slices missing, some provisional and some short (all three are
fetched again; no short session is confirmed in ``short_sessions`` here). The median of
``repeats`` runs is reported. For reference, one whole tick of ``missing_partitions_sensor``
(its own lookback window, instance queries included) is timed too.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from bench import NOW
from bench.dagster_runs import scratch_instance
from bench.harness import Result, main_for, stopwatch, symbols, workdir
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.repair_plan import gaps
from stock_pipeline.domain.trading_calendar import (
    expected_bar_count,
    latest_session,
    session_close,
    session_open,
    sessions_back,
)
from stock_pipeline.warehouse.completeness import slice_states
from stock_pipeline.warehouse.tables import connect

INTERVAL = "5m"
TARGET_PER_SECOND = 30_000


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    days: int = 60
    repeats: int = 5
    missing_every: int = 50  # one slice in N is absent
    provisional_every: int = 70  # one in N was fetched before its close
    short_every: int = 90  # one in N lacks its last bars


FULL = Params()
SMOKE = Params(symbols=5, days=3, repeats=2, missing_every=4, provisional_every=5)


def populate(database: Path, syms: list[str], days: list[date], params: Params) -> int:
    """5m bars of every (symbol, day) with a few gaps; returns the slices stored."""
    day_rows = pd.DataFrame(
        {
            "day": days,
            "open_ts": [pd.Timestamp(session_open(d)) for d in days],
            "bars": [expected_bar_count(d, INTERVAL) for d in days],
            "closed": [pd.Timestamp(session_close(d)) for d in days],
        }
    )
    cells = pd.DataFrame(
        [(s, i, d) for i, s in enumerate(syms) for d in range(len(days))],
        columns=["symbol", "sym_no", "day_no"],
    )
    n = cells["sym_no"] * len(days) + cells["day_no"]
    cells = cells[n % params.missing_every != 1].assign(
        provisional=(n % params.provisional_every == 2),
        short=(n % params.short_every == 3),
    )
    cells["day"] = [days[i] for i in cells["day_no"]]
    with connect(database) as con:
        con.register("day_rows", day_rows)
        con.register("cells", cells)
        con.execute(
            """
            INSERT INTO intraday_prices
            SELECT c.symbol, ?, d.day, d.open_ts + to_minutes(5 * r.i),
                   100, 101, 99, 100.5, 1000,
                   CASE WHEN c.provisional THEN d.closed - INTERVAL 1 HOUR
                        ELSE d.closed + INTERVAL 1 HOUR END
            FROM cells c JOIN day_rows d USING (day),
                 LATERAL (SELECT range AS i
                          FROM range(d.bars - CASE WHEN c.short THEN 3 ELSE 0 END)) r
            """,
            [INTERVAL],
        )
    return len(cells)


def find_gaps(database: Path, syms: list[str], days: list[date]) -> tuple[float, int]:
    """What the sensor does with the warehouse: seconds, and partitions to fetch."""
    with stopwatch() as elapsed:
        with connect(database, read_only=True) as con:
            states = slice_states(con, syms, days, INTERVAL)
        todo = gaps(states, syms, set(), limit=len(states))
    return elapsed[0], len(todo)


def sensor_tick(root: Path, database: Path, syms: list[str]) -> tuple[float, str]:
    """One evaluation of missing_partitions_sensor (instance and warehouse as deployed)."""
    from stock_pipeline.defs.sensors import missing_partitions_sensor

    with scratch_instance(root / "home") as instance:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        with (
            dg.build_sensor_context(
                instance=instance, resources={"warehouse": WarehouseResource(path=str(database))}
            ) as context,
            stopwatch() as elapsed,
        ):
            result = missing_partitions_sensor.evaluate_tick(context)
    requests = result.run_requests or []
    summary = f"{len(requests)} run request(s)"
    if result.skip_message:
        summary = f"skipped: {result.skip_message}"
    return elapsed[0], summary


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    partitions = len(syms) * len(days)
    with workdir("b4") as root:
        database = root / "data" / "warehouse"
        stored = populate(database, syms, days, params)
        find_gaps(database, syms, days)  # warm: imports, calendar caches
        timings = []
        found = 0
        for _ in range(params.repeats):
            seconds, found = find_gaps(database, syms, days)
            timings.append(seconds)
        tick_seconds, tick = sensor_tick(root, database, syms)
        with connect(database, read_only=True) as con:
            row = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    seconds = statistics.median(timings)
    rate = partitions / seconds
    return [
        Result(
            id="B4",
            title=f"find missing/incomplete partitions, {params.symbols} × {params.days} days",
            value=rate,
            unit="partitions/s",
            target=f"≥ {TARGET_PER_SECOND:,}/s (< 1 s)",
            met=rate >= TARGET_PER_SECOND,
            seconds=seconds,
            detail={
                "partitions": partitions,
                "slices_stored": stored,
                "rows_stored": int(row[0]) if row else 0,
                "partitions_to_fetch": found,
                "seconds_each": [round(t, 4) for t in timings],
                "sensor_tick_seconds": round(tick_seconds, 3),
                "sensor_tick": tick,
            },
            notes=[
                f"median of {params.repeats}: {seconds:.3f} s for {partitions:,} partitions, "
                f"{found:,} to fetch; one missing_partitions_sensor tick: "
                f"{tick_seconds:.2f} s ({tick})"
            ],
        )
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
