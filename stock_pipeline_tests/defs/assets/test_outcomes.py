"""Finishing a batch: all stored via the IO manager, or the good part stored and the rest named."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.defs.assets.outcomes import finish_batch
from stock_pipeline.defs.assets.prices import intraday_prices
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.bars import empty_intraday
from stock_pipeline.domain.errors import (
    RateLimitedError,
    StockPipelineError,
    SymbolNotFoundError,
    YahooServerError,
)
from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline.yahoo.batch import BatchResult, PartitionOutcome
from stock_pipeline_tests.support.frames import bars


def failed_batch(reasons: dict[str, StockPipelineError], stored: str | None = None) -> BatchResult:
    """Failed partitions with their errors, and optionally one stored (day, symbol)."""
    outcomes = {
        key: PartitionOutcome(key, error=PartitionFailure.from_error(reason))
        for key, reason in reasons.items()
    }
    frame = empty_intraday()
    if stored is not None:
        day, symbol = stored.split("|")
        outcomes[stored] = PartitionOutcome(stored, rows=78)
        frame = bars(symbol, date.fromisoformat(day))
    return BatchResult(frame=frame, outcomes=outcomes)


class StepContext:
    """The part of an asset's context that ``finish_batch`` uses when a batch failed."""

    asset_key = intraday_prices.key

    def __init__(self) -> None:
        self.log = logging.getLogger("test_concurrency")
        self.events: list[dg.AssetMaterialization] = []

    def log_event(self, event: dg.AssetMaterialization) -> None:
        self.events.append(event)


def retry_allowed(batch: BatchResult, duckdb_file: Path) -> bool:
    context = StepContext()
    with pytest.raises(dg.Failure) as raised:
        finish_batch(
            context,  # type: ignore[arg-type]
            batch,
            INTRADAY_PRICES,
            WarehouseResource(path=str(duckdb_file)),
            extra={},
            tags={},
        )
    assert len(context.events) == len(batch.succeeded)
    return raised.value.allow_retries


def test_a_step_is_retried_only_when_nothing_was_stored_and_every_failure_is_transient(
    duckdb_file: Path,
) -> None:
    outage: dict[str, StockPipelineError] = {
        "2026-11-25|AAPL": YahooServerError("AAPL", "Yahoo server error 503; retry later"),
        "2026-11-25|MSFT": RateLimitedError("MSFT", "Yahoo answered 429"),
    }
    assert retry_allowed(failed_batch(outage), duckdb_file)
    unknown = {**outage, "2026-11-25|ZZZZ": SymbolNotFoundError("ZZZZ", "unknown")}
    assert not retry_allowed(failed_batch(unknown), duckdb_file)
    partial = failed_batch(outage, stored="2026-11-25|NVDA")
    assert not retry_allowed(partial, duckdb_file)  # the sensor re-fetches only the rest
