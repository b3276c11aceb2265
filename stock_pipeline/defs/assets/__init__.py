"""Dagster assets: thin wiring over ``stock_pipeline.yahoo.batch`` and the warehouse."""

import warnings

import dagster as dg

# Single-run backfills are deliberate (one run fetches many partitions in few Yahoo
# requests); Dagster flags the parameter as beta on every use.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset`", category=dg.BetaWarning
)
