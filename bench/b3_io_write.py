"""B3: writing a 500-symbol × 60-day 5m backfill (~2.3 M bars) through the project's IO manager.

Pipeline: ``DuckDBWarehouseIOManager.handle_output`` into the warehouse lake (embedded:
SQLite catalog, local Parquet files) for ``intraday_prices`` over the
partition range of all 500 × 60 (day, symbol) partitions (an output context built on a
scratch instance with the symbols registered): resolving the run's partition keys, the
empty-partition check, one transaction replacing every slice, the checkpoint at close. A
Dagster run around it would add Dagster's own bookkeeping — one planned and one
materialization event per partition, which dominates at this size (see BENCHMARKS.md) —
but not IO manager work.

Baseline: DuckDB's own bulk insert of the same frame into an empty table of a DuckDB file
with the primary key (the single-file warehouse of earlier versions: ``INSERT … SELECT``
from the registered frame, connect to close), and, for reference, without the key.

The bars come from the fake Yahoo's market model, called directly; its generation time is
reported (F1). Peak RSS after each phase is in the details; B6 reads this process's peak.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from bench import NOW
from bench.dagster_runs import scratch_instance
from bench.frames import intraday_frame
from bench.harness import (
    Result,
    main_for,
    peak_rss_mib,
    stopwatch,
    symbols,
    workdir,
)
from stock_pipeline.defs.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.warehouse.tables import INTRADAY_PRICES

INTERVAL = "5m"


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    days: int = 60


FULL = Params()
SMOKE = Params(symbols=5, days=3)


def write_through_io_manager(
    root: Path, frame: pd.DataFrame, syms: list[str], first: str, last: str
) -> dict[str, Any]:
    """``handle_output`` of the project's IO manager for one output over the whole range."""
    from stock_pipeline.defs.partitions import intraday_partitions

    database = root / "pipeline-lake"
    warehouse = WarehouseResource(path=str(database))
    manager = DuckDBWarehouseIOManager(warehouse=warehouse)
    with scratch_instance(root / "home") as instance:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        context = dg.build_output_context(
            asset_key="intraday_prices",
            asset_partitions_def=intraday_partitions,
            asset_partition_key_range=dg.PartitionKeyRange(first, last),
            instance=instance,
        )
        with stopwatch() as seconds:
            manager.handle_output(context, frame)
    with warehouse.connect(read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    return {"write_seconds": seconds[0], "rows_stored": int(stored[0]) if stored else 0}


def bulk_insert(database: Path, frame: pd.DataFrame, primary_key: bool) -> float:
    """DuckDB's own insert of the frame into an empty table, connect to close."""
    cols = ", ".join(f'"{c}"' for c in INTRADAY_PRICES.column_names if c != "fetched_at")
    start = time.perf_counter()
    con = duckdb.connect(str(database))
    try:
        con.execute("SET TimeZone = 'UTC'")
        ddl = INTRADAY_PRICES.ddl()  # the lake's layout: no key
        if primary_key:  # the single-file warehouse of earlier versions
            ddl = ddl[:-1] + f", PRIMARY KEY ({', '.join(INTRADAY_PRICES.key)}))"
        con.execute(ddl)
        con.register("frame", frame)
        con.execute(f"INSERT INTO intraday_prices SELECT {cols}, now() FROM frame")
    finally:
        con.close()
    return time.perf_counter() - start


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    rss: dict[str, float] = {"start": peak_rss_mib()}
    with stopwatch() as gen_seconds:
        frame = intraday_frame(syms, days, INTERVAL)
    rss["after_generating"] = peak_rss_mib()
    rows = len(frame)
    first, last = f"{days[0].isoformat()}|{syms[0]}", f"{days[-1].isoformat()}|{syms[-1]}"
    with workdir("b3") as root:
        pipe = write_through_io_manager(root, frame, syms, first, last)
        rss["after_io_manager"] = peak_rss_mib()
        base = bulk_insert(root / "baseline.duckdb", frame, primary_key=True)
        rss["after_baseline"] = peak_rss_mib()
        plain = bulk_insert(root / "plain.duckdb", frame, primary_key=False)
        rss["after_plain_baseline"] = peak_rss_mib()
    pipe_rate = rows / pipe["write_seconds"]
    base_rate = rows / base
    symbol_days = params.symbols * params.days
    return [
        Result(
            id="B3",
            title=f"IO manager write, {params.symbols} × {params.days} days 5m ({rows:,} bars)",
            value=pipe_rate,
            unit="rows/s",
            target="≥ 0.5× baseline rows/s",
            met=pipe_rate >= 0.5 * base_rate and pipe["rows_stored"] == rows,
            baseline=base_rate,
            baseline_label="DuckDB INSERT, same table",
            ratio=pipe_rate / base_rate,
            seconds=pipe["write_seconds"],
            detail={
                "rows": rows,
                "rows_stored": pipe["rows_stored"],
                "io_manager_seconds": round(pipe["write_seconds"], 3),
                "baseline_seconds": round(base, 3),
                "baseline_no_key_seconds": round(plain, 3),
                "baseline_no_key_rows_per_s": rows / plain,
                "ratio_vs_no_key_table": pipe_rate / (rows / plain),
                "peak_rss_mib": {k: round(v, 1) for k, v in rss.items()},
            },
            notes=[f"DuckDB into a table without the primary key: {plain:.2f} s"],
        ),
        Result(
            id="F1",
            title=f"fake Yahoo: generate {params.symbols} × {params.days} days of 5m bars",
            value=gen_seconds[0] * 1e6 / symbol_days,
            unit="µs/symbol-day",
            target="must not dominate any figure",
            met=None,
            seconds=gen_seconds[0],
            detail={"seconds": round(gen_seconds[0], 3), "symbol_days": symbol_days},
            notes=[
                f"{gen_seconds[0]:.2f} s for {symbol_days:,} symbol-days, including the "
                f"conversion to the pipeline's frame"
            ],
        ),
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
