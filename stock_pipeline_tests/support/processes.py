"""Code that tests run in child processes (spawned: it must import cleanly on its own)."""

from __future__ import annotations

import os
import time
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


def hold_warehouse(database: str, read_only: bool, seconds: float, opened: Event) -> None:
    """Keep a connection to the warehouse open for ``seconds``; set ``opened`` once in."""
    from stock_pipeline.warehouse.tables import connect

    with connect(Path(database), read_only=read_only):
        opened.set()
        time.sleep(seconds)
