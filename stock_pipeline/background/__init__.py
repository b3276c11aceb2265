"""Background syncs from Python, on Dagster's run queue: the seed's ``.delay()`` and ``inspect()``.

    from stock_pipeline.background import submit_intraday_sync, inspect

    handle = submit_intraday_sync(symbols=["AAPL", "MSFT"], interval="1m")
    handle.status            # queued → running → succeeded / failed / canceled
    result = handle.wait(timeout=600)
    result.rows, result.failed, result.by_symbol()
    inspect().active(), inspect().queued(), inspect().scheduled(), inspect().stats()

Runs are queued on the instance at ``DAGSTER_HOME`` and launched by ``dagster-daemon``;
there is no queue of our own. ``STOCK_PIPELINE_EAGER=1`` (or ``eager=True``) runs them in
this process and returns a finished handle.
"""

from stock_pipeline.background.handle import SymbolResult, SyncHandle, SyncResult
from stock_pipeline.background.monitor import Inspector, RunSummary, inspect, list_runs
from stock_pipeline.background.schedule_view import ScheduleView, TickPreview
from stock_pipeline.background.stats import DayStats, Stats
from stock_pipeline.background.status import JobStatus
from stock_pipeline.background.submit import (
    EAGER_ENV,
    submit_current_prices,
    submit_historical_sync,
    submit_intraday_sync,
    submit_plan,
    submit_symbol_sync,
)

__all__ = [
    "EAGER_ENV",
    "DayStats",
    "Inspector",
    "JobStatus",
    "RunSummary",
    "ScheduleView",
    "Stats",
    "SymbolResult",
    "SyncHandle",
    "SyncResult",
    "TickPreview",
    "inspect",
    "list_runs",
    "submit_current_prices",
    "submit_historical_sync",
    "submit_intraday_sync",
    "submit_plan",
    "submit_symbol_sync",
]
