"""B9, B10: reading prices through the adjusted view; refreshing corporate actions.

B9 — reading every 5m bar of 500 symbols × 60 sessions (~2.3 M rows, the B3/B4 warehouse)
through ``intraday_prices_adjusted`` (splits applied when read, one symbol in ten with a
split inside the window) against a plain scan of ``intraday_prices``: rows/s of a full
fetch of the view's price columns versus the table's, median of ``repeats``.

B10 — Yahoo requests of one ``corporate_actions_job`` run for 500 registered symbols
against the fake Yahoo (every request counts: cookie and crumb included); the target is
at most one per symbol.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from bench import NOW
from bench.b4_completeness import Params as B4Params
from bench.b4_completeness import populate
from bench.dagster_runs import scratch_instance
from bench.fake import fake_yahoo, request_counts, total
from bench.harness import Result, clear_yfinance_cache, main_for, ratio, stopwatch, symbols, workdir
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.warehouse.tables import connect

COLUMNS = "symbol, interval, session_date, ts, open, high, low, close, volume"


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    days: int = 60
    repeats: int = 3
    split_every: int = 10  # one symbol in N has a split inside the window
    action_symbols: int = 500


FULL = Params()
SMOKE = Params(symbols=5, days=3, repeats=2, split_every=2, action_symbols=5)


def add_splits(database: Path, syms: list[str], days: list[date], every: int) -> int:
    split_day = days[len(days) // 2]
    rows = pd.DataFrame(
        {
            "symbol": syms[::every],
            "ex_date": split_day,
            "kind": "split",
            "value": 4.0,
            "first_seen": pd.Timestamp(NOW),
        }
    )
    with connect(database) as con:
        con.register("new_splits", rows)
        con.execute("INSERT INTO corporate_actions SELECT * FROM new_splits")
    return len(rows)


def read_rate(database: Path, source: str) -> tuple[float, int]:
    with connect(database, read_only=True) as con, stopwatch() as elapsed:
        columns = con.execute(f"SELECT {COLUMNS} FROM {source}").fetchnumpy()
    rows = len(columns["symbol"])
    return rows / elapsed[0], rows


def view_read(params: Params) -> Result:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    with workdir("b8") as root:
        database = root / "data" / "warehouse.duckdb"
        populate(database, syms, days, B4Params(missing_every=10**9, provisional_every=10**9))
        splits = add_splits(database, syms, days, params.split_every)
        read_rate(database, "intraday_prices_adjusted")  # warm: file cache
        plain, view = [], []
        rows = 0
        for _ in range(params.repeats):
            plain.append(read_rate(database, "intraday_prices")[0])
            rate, rows = read_rate(database, "intraday_prices_adjusted")
            view.append(rate)
    value, base = statistics.median(view), statistics.median(plain)
    share = ratio(value, base)
    return Result(
        id="B9",
        title=f"read {rows:,} 5m bars through intraday_prices_adjusted ({splits} symbols split)",
        value=value,
        unit="rows/s",
        target="≥ 0.5× plain scan rows/s",
        met=share is not None and share >= 0.5,
        baseline=base,
        baseline_label="plain scan of intraday_prices",
        ratio=share,
        detail={"rows": rows, "view_rows_per_s": view, "plain_rows_per_s": plain},
        notes=[f"median of {params.repeats}: view {value:,.0f} rows/s, table {base:,.0f} rows/s"],
    )


def actions_refresh(params: Params) -> Result:
    from stock_pipeline.definitions import defs

    syms = symbols(params.action_symbols)
    with workdir("b9") as root, scratch_instance(root / "home") as instance, fake_yahoo() as fake:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        job = defs.resolve_job_def("corporate_actions_job")
        with stopwatch() as seconds:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        if not result.success:
            raise RuntimeError("corporate_actions_job failed")
        counts = request_counts(fake)
    requests = total(counts)
    return Result(
        id="B10",
        title=f"requests to refresh corporate actions of {params.action_symbols} symbols",
        value=requests,
        unit="req",
        target=f"≤ {params.action_symbols} actions requests (1 per symbol; + cookie, crumb)",
        met=counts["actions"] <= params.action_symbols and requests <= params.action_symbols + 2,
        seconds=seconds[0],
        detail={"requests_by_kind": dict(counts), "seconds": round(seconds[0], 2)},
        notes=[f"{dict(counts)} in {seconds[0]:.1f} s (cookie and crumb once per process)"],
    )


def run(params: Params) -> list[Result]:
    return [view_read(params), actions_refresh(params)]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
