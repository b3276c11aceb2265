"""Code that tests run in child processes (spawned: it must import cleanly on its own)."""

from __future__ import annotations

import os
import time
from datetime import date
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any


def sync_range(env: dict[str, str], first: str, last: str, barrier: Barrier) -> dict[str, Any]:
    """Run the project's intraday job for first…last once every party is ready."""
    os.environ.update(env)
    import dagster as dg

    from stock_pipeline.definitions import defs

    job = defs.resolve_job_def("intraday_prices_job")
    instance = dg.DagsterInstance.get()
    barrier.wait(timeout=180)
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    return {
        "success": result.success,
        "run_id": result.run_id,
        "seconds": time.monotonic() - started,
    }


def hold_warehouse(
    database: str, write: bool, seconds: float, opened: Event, seen: Queue[int]
) -> None:
    """Hold one warehouse transaction open for ``seconds``; set ``opened`` once inside.

    A reader counts intraday rows at the start and again at the end (both sent to
    ``seen``: a snapshot keeps its count); a writer inserts one slice it commits at the end.
    """
    from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect

    with connect(Path(database), read_only=not write) as con:
        if write:
            frame = session_bars("HOLD", 100.0)
            con.begin()
            con.register("held", frame)
            cols = ", ".join(f'"{c}"' for c in INTRADAY_PRICES.column_names)
            con.execute(f"INSERT INTO intraday_prices ({cols}) SELECT {cols} FROM held")
            opened.set()
            time.sleep(seconds)
            con.commit()
            return
        con.begin()
        seen.put(_count(con))
        opened.set()
        time.sleep(seconds)
        seen.put(_count(con))
        con.commit()


def session_bars(symbol: str, price: float) -> Any:
    """The 78 five-minute bars of 2026-11-24 (as conftest.bars builds them, without importing
    the trading calendar: a spawned child would spend seconds on it)."""
    import pandas as pd

    day = date(2026, 11, 24)
    starts = pd.date_range(f"{day} 14:30", periods=78, freq="5min", tz="UTC")
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": "5m",
            "session_date": [day] * len(starts),
            "ts": starts,
            "open": price,
            "high": price + 1,
            "low": price - 1,
            "close": price + 0.5,
            "volume": 1000,
            "fetched_at": pd.Timestamp("2026-11-24 22:00", tz="UTC"),
        }
    )


def _count(con: Any) -> int:
    row = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    return int(row[0])


def hold_lock(path: str, exclusive: bool, seconds: float, opened: Event) -> None:
    """Hold ``path``'s file lock for ``seconds``; set ``opened`` once held."""
    from stock_pipeline.warehouse.lock import warehouse_lock

    with warehouse_lock(Path(path), exclusive=exclusive, wait_seconds=30):
        opened.set()
        time.sleep(seconds)


def hammer_slice(database: str, worker: int, rounds: int, start: Barrier) -> int:
    """Replace one slice (AAPL, one session) ``rounds`` times; returns the rows written."""
    from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices

    written = 0
    start.wait(timeout=120)
    with connect(database) as con:  # a directory or postgres:<conninfo>
        for n in range(rounds):
            frame = session_bars("AAPL", price=100.0 + worker * 1000 + n)
            written += replace_slices(con, INTRADAY_PRICES, frame)
    return written
