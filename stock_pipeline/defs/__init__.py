"""Everything Dagster: partitions, resources, the IO manager, jobs, tags, assets, checks,
schedules and sensors. ``stock_pipeline/definitions.py`` gathers them into the one
``Definitions``.

Thin wiring over the layers below (``domain``, ``settings``, ``yahoo``, ``warehouse``,
``services``, ``reporting``); nothing below imports from here.
"""

from stock_pipeline.defs.dagster_private import (
    plan_each_run_in_one_event,
    store_materializations_in_batches,
    write_sqlite_materializations_at_once,
)

# Before any run is created in this process: one planned event per run, not per partition,
# and a step's materializations stored in batches (one transaction each, SQLite too).
plan_each_run_in_one_event()
store_materializations_in_batches()
write_sqlite_materializations_at_once()
