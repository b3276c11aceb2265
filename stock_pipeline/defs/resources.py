"""Typed Dagster resources: Yahoo Finance (through yfinance) and the DuckDB warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from stock_pipeline import settings
from stock_pipeline.settings import automation as knobs
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.short_sessions import store_intraday
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, Table, connect, replace_slices
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

YAHOO_URL_ENV = "STOCK_PIPELINE_YAHOO_URL"


class YahooFinanceResource(dg.ConfigurableResource):
    """Yahoo Finance through yfinance: rate limited, retried, every request counted."""

    base_url: str | None = Field(
        default=None,
        description=f"Send every request for Yahoo's hosts to this origin (mirror, proxy, the "
        f"fake Yahoo). Unset: ${YAHOO_URL_ENV}, else Yahoo itself.",
    )
    requests_per_second: float = Field(
        default=5.0,
        description="Yahoo requests per second this process starts at; 0: no limit. The rate "
        "climbs by 0.5 after each 20 answers without 429, up to max_requests_per_second, "
        "and halves on a 429.",
    )
    max_requests_per_second: float = Field(
        default=10.0,
        description="Ceiling of the climbing Yahoo rate (lowered below the rate of any 429 "
        "for the rest of the process). At or below requests_per_second: a fixed pace.",
    )
    max_retries: int = Field(
        default=3, description="Retries of a transient failure (429, 5xx, timeouts)."
    )
    backoff_seconds: float = Field(
        default=1.0, description="First retry delay; doubles each retry, with ±50% jitter."
    )
    max_workers: int = Field(default=4, description="Symbols fetched in parallel in one run.")

    def client(self) -> YahooClient:
        return YahooClient(
            YahooSettings(
                base_url=self.base_url or os.environ.get(YAHOO_URL_ENV) or None,
                requests_per_second=self.requests_per_second,
                max_requests_per_second=self.max_requests_per_second,
                max_retries=self.max_retries,
                backoff_seconds=self.backoff_seconds,
                cache_dir=str(settings.yfinance_cache_dir()),
            )
        )


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse (a DuckLake) the assets are stored in."""

    path: str | None = Field(
        default=None,
        description="The warehouse: an embedded lake's directory or postgres:<conninfo> "
        "(its files then go to $STOCK_PIPELINE_WAREHOUSE_DATA). Unset: "
        "$STOCK_PIPELINE_WAREHOUSE, else data/warehouse.",
    )

    data_path: str | None = Field(
        default=None,
        description="Where the lake's Parquet files go (a directory or s3://bucket/prefix/). "
        "Unset: $STOCK_PIPELINE_WAREHOUSE_DATA, else the lake directory's files/.",
    )

    @property
    def database(self) -> Lake:
        if not self.path:
            return Lake.from_settings()
        return Lake.at(self.path, self.data_path or settings.warehouse_data_path())

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.database, read_only=read_only) as con:
            yield con

    def write(
        self, table: Table, frame: pd.DataFrame, constants: Mapping[str, object] | None = None
    ) -> int:
        """Replace the slices ``frame`` holds, in one transaction (``replace_slices``);
        intraday bars also count short final sessions in it (``store_intraday``)."""
        with self.connect() as con:
            if table is INTRADAY_PRICES:
                return store_intraday(
                    con, frame, constants, knobs.final_grace(), knobs.short_session_refetches()
                )
            return replace_slices(con, table, frame, constants)

    def query(self, sql: str, params: list[object] | None = None) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).df()
