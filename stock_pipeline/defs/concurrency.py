"""Retries and concurrency of the steps that call Yahoo (the seed's queues and retries).

- In-step: the Yahoo client retries each transient request (429, 5xx, timeouts) a few
  times within seconds (``YahooFinanceResource.max_retries``/``backoff_seconds``).
- Step: ``FETCH_RETRY_POLICY`` re-runs a fetching step up to 3 times (the seed's "up to
  3 retries with delays"), about 20 s, 60 s and 140 s later (Dagster's exponential backoff
  ``(2**n - 1) * 20 s``, each ± 20 s of jitter so parallel runs do not retry in step), for
  an outage or a rate-limit window that outlasts the client's retries. A step fails
  without a retry when trying again cannot help (bad config, unknown symbol) or when some
  partitions were stored: then only the failed ones are fetched again, by the
  missing-partitions sensor, not the whole step.
- Run: ``run_retries`` in ``dagster.yaml`` re-launches runs whose process crashed only
  (``retry_on_asset_or_op_failure: false``), so a step failure is never retried twice.
- ``YAHOO_POOL`` bounds how many fetching steps run at once across all runs (the seed's
  ``stock_data`` queue); its limit is ``concurrency.pools.default_limit`` in
  ``dagster.yaml`` or ``dagster instance concurrency set yahoo N``. Warehouse writes need
  no pool: the DuckLake commits concurrent writers side by side and a conflicting commit
  is redone (``stock_pipeline.warehouse.commits``).
"""

from __future__ import annotations

import dagster as dg

YAHOO_POOL = "yahoo"

FETCH_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3,
    delay=20,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)
