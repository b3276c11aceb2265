"""The Celery app of a step worker: ``celery -A stock_pipeline.defs.celery_worker worker``.

A worker executes the steps that runs launched with ``STOCK_PIPELINE_EXECUTOR=celery`` put
on the broker. It needs the same environment as the daemon (``deploy/stock-pipeline.env``):
the broker and backend, the warehouse and data paths, the Yahoo settings, and access to the
Dagster instance the run lives in (the run hands the worker a reference to it). See
docs/deployment.md, "Celery workers".
"""

from stock_pipeline.defs.executors import celery_worker_app

app = celery_worker_app()
