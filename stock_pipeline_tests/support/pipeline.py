"""Running the project's real assets against the fake Yahoo, for tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from stock_pipeline.defs.assets.actions import corporate_actions
from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.assets.reference import current_prices, stocks
from stock_pipeline.defs.io_manager import DuckDBWarehouseIOManager
from stock_pipeline.defs.jobs import reverify_job
from stock_pipeline.defs.resources import WarehouseResource, YahooFinanceResource
from stock_pipeline.defs.reverification import REVERIFY_CHECK_OP, daily_prices_reverification
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.tables import connect

ASSETS = {
    a.key.path[-1]: a
    for a in (intraday_prices, daily_prices, stocks, current_prices, corporate_actions)
}


@dataclass
class Pipeline:
    """The real assets and resources, pointed at a fake Yahoo and a temporary DuckDB."""

    instance: dg.DagsterInstance
    fake: FakeYahoo
    database: Path

    def resources(self) -> dict[str, Any]:
        warehouse = WarehouseResource(path=str(self.database))
        return {
            "yahoo": YahooFinanceResource(
                base_url=self.fake.url, requests_per_second=0, backoff_seconds=0.01
            ),
            "warehouse": warehouse,
            "warehouse_io_manager": DuckDBWarehouseIOManager(warehouse=warehouse),
        }

    def register(self, symbols: Sequence[str]) -> None:
        self.instance.add_dynamic_partitions("symbols", list(symbols))

    def materialize(
        self,
        asset: str,
        first: str | None = None,
        last: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dg.ExecuteInProcessResult:
        """Materialize one asset for one partition, a range first…last, or unpartitioned."""
        tags: dict[str, str] = {}
        if first is not None and (last is None or last == first):
            tags = {"dagster/partition": first}
        elif first is not None and last is not None:
            tags = {
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            }
        run_config = {"ops": {asset: {"config": config}}} if config else None
        return dg.materialize(
            [ASSETS[asset]],
            instance=self.instance,
            resources=self.resources(),
            tags=tags,
            run_config=run_config,
            raise_on_error=False,
        )

    def reverify(self, **config: Any) -> dg.ExecuteInProcessResult:
        """Run the real ``reverify_job`` (config: ``symbols``, ``dry_run``)."""
        defs = dg.Definitions(
            assets=[daily_prices],
            asset_checks=[daily_prices_reverification],
            jobs=[reverify_job],
            resources=self.resources(),
        )
        return defs.resolve_job_def(reverify_job.name).execute_in_process(
            instance=self.instance,
            run_config={"ops": {REVERIFY_CHECK_OP: {"config": config}}},
            raise_on_error=False,
        )

    def materialized(self, asset: str) -> set[str]:
        return set(self.instance.get_materialized_partitions(dg.AssetKey(asset)))

    def query(self, sql: str, params: list[object] | None = None) -> pd.DataFrame:
        with connect(self.database, read_only=True) as con:
            return con.execute(sql, params or []).df()

    def price_requests(self) -> int:
        """Chart requests that fetched bars (not yfinance's one-off timezone probes)."""
        return sum(1 for r in self.fake.log if r.kind == "chart" and "period1" in r.query)


def failure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None
    return {k: getattr(v, "value", v) for k, v in failure.metadata.items()}
