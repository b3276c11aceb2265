"""Everything Dagster: partitions, resources, the IO manager, jobs, tags, assets, checks,
schedules and sensors. ``stock_pipeline/definitions.py`` gathers them into the one
``Definitions``.

Thin wiring over the layers below (``domain``, ``settings``, ``yahoo``, ``warehouse``,
``services``, ``reporting``); nothing below imports from here.
"""
