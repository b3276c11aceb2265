"""B12: the warehouse lake under hourly syncs: readers never wait, maintenance bounds the files.

Each simulated hourly sync replaces today's intraday slice of every symbol (a session's
bars so far: 12 more per hour, 78 at the close; 7 syncs a day) in one claimed transaction,
as the IO manager does, straight through ``replace_slices`` (no Dagster around it).

- B12-reader: wall time of one day of hourly syncs with a reader process holding one
  snapshot (an open transaction) the whole time, over the same without a reader.
- B12-files / B12-bytes: Parquet files and bytes under the data path after ``days`` simulated
  days, with the daily maintenance (merge, rewrite, expire snapshots older than 7 simulated
  days, delete their files) and without it.
"""

from __future__ import annotations

import multiprocessing
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path

import numpy as np
import pandas as pd

from bench.harness import Result, main_for, stopwatch, symbols, workdir
from stock_pipeline.warehouse.maintenance import footprint, maintain
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices

SYNCS_PER_DAY = 7
KEEP_DAYS = 7


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    days: int = 30


FULL = Params()
SMOKE = Params(symbols=5, days=KEEP_DAYS + 3)  # long enough for snapshots to expire


def session(syms: list[str], day: date, bars: int) -> pd.DataFrame:
    """The first ``bars`` 5-minute bars of ``day`` for every symbol."""
    starts = pd.date_range(f"{day} 14:30", periods=bars, freq="5min", tz="UTC")
    n = len(syms) * bars
    price = np.random.default_rng(day.toordinal()).uniform(10, 500, n)
    return pd.DataFrame(
        {
            "symbol": np.repeat(syms, bars),
            "interval": "5m",
            "session_date": day,
            "ts": np.tile(starts, len(syms)),
            "open": price,
            "high": price + 1,
            "low": price - 1,
            "close": price + 0.5,
            "volume": 1000,
            "fetched_at": pd.Timestamp.now(tz="UTC"),
        }
    )


def sync_day(lake: Path, syms: list[str], day: date) -> None:
    with connect(lake) as con:
        for hour in range(1, SYNCS_PER_DAY + 1):
            replace_slices(con, INTRADAY_PRICES, session(syms, day, min(78, 12 * hour)))


def hold_snapshot(lake: str, opened: Event, done: Event) -> None:
    """A notebook: one transaction open until ``done``, reading now and then."""
    from stock_pipeline import connect as reader

    con = reader(lake)
    con.begin()
    con.execute("SELECT count(*) FROM intraday_prices").fetchall()
    opened.set()
    while not done.wait(30):
        con.execute("SELECT count(*), max(close) FROM intraday_prices").fetchall()
    con.commit()
    con.close()


def reader_ratio(root: Path, syms: list[str], repeats: int = 3) -> tuple[float, float]:
    """Median wall time of a day's syncs without and with a reader holding a snapshot, the
    two measured in turn ``repeats`` times (one sample varies with the machine's load)."""
    lake = root / "reader-lake"
    first = date(2026, 10, 1)
    sync_day(lake, syms, first)  # the lake exists, with a day in it
    alone_runs: list[float] = []
    beside_runs: list[float] = []
    spawn = multiprocessing.get_context("spawn")
    for n in range(repeats):
        with stopwatch() as alone:
            sync_day(lake, syms, first + timedelta(days=1 + 2 * n))
        alone_runs.append(alone[0])
        opened, done = spawn.Event(), spawn.Event()
        child = spawn.Process(target=hold_snapshot, args=(str(lake), opened, done))
        child.start()
        try:
            if not opened.wait(600):
                raise RuntimeError("the reader process never opened the lake")
            with stopwatch() as beside:
                sync_day(lake, syms, first + timedelta(days=2 + 2 * n))
            beside_runs.append(beside[0])
        finally:
            done.set()
            child.join(60)
    return statistics.median(alone_runs), statistics.median(beside_runs)


def thirty_days(root: Path, syms: list[str], days: int, maintained: bool) -> dict[str, float]:
    lake = root / ("maintained" if maintained else "unmaintained")
    first = date(2026, 10, 1)
    started: list[datetime] = []  # real instant each simulated day began
    with stopwatch() as seconds:
        for n in range(days):
            started.append(datetime.now(UTC))
            sync_day(lake, syms, first + timedelta(days=n))
            if maintained:
                # Snapshots of the last KEEP_DAYS simulated days stay readable.
                keep_from = started[max(0, n + 1 - KEEP_DAYS)]
                with connect(lake) as con:
                    maintain(con, datetime.now(UTC) - keep_from, datetime.now(UTC))
    files = list((lake / "files").rglob("*.parquet"))
    with connect(lake, read_only=True) as con:
        snapshots = footprint(con).snapshots
        rows = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    return {
        "files": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "snapshots": snapshots,
        "rows": int(rows[0]) if rows else 0,
        "seconds": seconds[0],
    }


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    with workdir("b12") as root:
        alone, beside = reader_ratio(root, syms)
        bare = thirty_days(root, syms, params.days, maintained=False)
        kept = thirty_days(root, syms, params.days, maintained=True)
    size = f"{params.symbols} symbols"
    return [
        Result(
            id="B12-reader",
            title=f"a day of hourly syncs ({size}) with a reader holding a snapshot (median of 3)",
            value=beside,
            unit="s",
            target="≈ 1.0× without the reader",
            met=beside <= 1.25 * alone,
            baseline=alone,
            baseline_label="the same syncs, no reader",
            ratio=beside / alone,
            seconds=beside,
        ),
        Result(
            id="B12-files",
            title=f"Parquet files after {params.days} days of hourly syncs ({size})",
            value=kept["files"],
            unit="files",
            target="bounded by maintenance",
            met=kept["files"] < bare["files"],
            baseline=bare["files"],
            baseline_label="without maintenance",
            ratio=kept["files"] / bare["files"],
            seconds=kept["seconds"],
            detail={"maintained": kept, "unmaintained": bare},
        ),
        Result(
            id="B12-bytes",
            title=f"Parquet bytes after {params.days} days of hourly syncs ({size})",
            value=kept["bytes"] / 2**20,
            unit="MiB",
            target="expired snapshots free space",
            met=kept["bytes"] < bare["bytes"],
            baseline=bare["bytes"] / 2**20,
            baseline_label="without maintenance",
            ratio=kept["bytes"] / bare["bytes"],
            notes=[
                f"rows {kept['rows']:,} vs {bare['rows']:,}; snapshots {kept['snapshots']} vs "
                f"{bare['snapshots']}; wall {kept['seconds']:.0f} s vs {bare['seconds']:.0f} s"
            ],
        ),
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
