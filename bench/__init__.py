"""Benchmarks B1–B7 and P1: the pipeline against Yahoo's limits and against what users would do.

Every benchmark runs the project's real path (Dagster on a real instance, yfinance, the fake
Yahoo over HTTP, DuckDB on disk) beside its baseline in the same invocation and reports a
ratio. ``python -m bench`` runs them all and prints one table; see BENCHMARKS.md.

The clock is pinned before any ``stock_pipeline`` module that reads it is imported (the
intraday partition window follows the clock at import), to the instant the fake Yahoo
answers at, so that 30 or 60 trading days are within Yahoo's lookback.
"""

import os

from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW

NOW = DEFAULT_TEST_NOW
os.environ["STOCK_PIPELINE_NOW"] = NOW.isoformat()
