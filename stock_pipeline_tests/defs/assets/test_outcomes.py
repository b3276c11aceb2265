"""Finishing a batch: all stored via the IO manager, or the good part stored and the rest named."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.defs.assets import outcomes
from stock_pipeline.defs.assets.outcomes import finish_batch, partition_metadata
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
from stock_pipeline.domain.run_keys import FAILURE_DETAILS
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
        self.marked_failed: list[str] = []  # for Dagster's partition status

    def log_event(self, event: dg.AssetMaterialization) -> None:
        self.events.append(event)


@pytest.fixture(autouse=True)
def record_marked_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real marking writes Dagster events (covered in test_dagster_private); here the
    step context is a stand-in, so record what would be marked."""

    def mark(context: StepContext, keys: list[str]) -> int:
        context.marked_failed.extend(keys)
        return len(keys)

    monkeypatch.setattr(outcomes, "mark_partitions_failed", mark)


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
    # A final failure marks its partitions failed; one that will be retried does not.
    retried = raised.value.allow_retries
    assert context.marked_failed == ([] if retried else sorted(batch.failed))
    return retried


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


def test_a_partial_batch_stores_the_good_part_and_names_each_failure_as_data(
    duckdb_file: Path,
) -> None:
    batch = failed_batch(
        {"2026-11-25|ZZZZ": SymbolNotFoundError("ZZZZ", "unknown")}, stored="2026-11-25|NVDA"
    )
    batch.requests.update({"chart": 2, "cookie": 1})
    batch.rate_reached = 7.5
    context = StepContext()
    warehouse = WarehouseResource(path=str(duckdb_file))
    with pytest.raises(dg.Failure) as raised:
        finish_batch(
            context,  # type: ignore[arg-type]
            batch,
            INTRADAY_PRICES,
            warehouse,
            extra={"interval": "5m"},
            tags={"stock_pipeline/interval": "5m"},
        )
    failure = raised.value
    assert failure.description is not None
    assert failure.description.startswith(
        "1 of 2 partition(s) failed; the other 1 were stored (78 rows)"
    )
    assert "2026-11-25|ZZZZ: SymbolNotFoundError: ZZZZ: unknown" in failure.description
    meta = {k: getattr(v, "value", v) for k, v in failure.metadata.items()}
    assert meta["failed_partitions"] == {"2026-11-25|ZZZZ": "SymbolNotFoundError: ZZZZ: unknown"}
    details = PartitionFailure.from_json(meta[FAILURE_DETAILS]["2026-11-25|ZZZZ"])
    assert (details.kind, details.no_data, details.transient) == (
        "SymbolNotFoundError",
        True,
        False,
    )
    assert (meta["run_partitions_stored"], meta["run_partitions_failed"]) == (1, 1)
    assert (meta["run_yahoo_requests"], meta["run_yahoo_price_requests"]) == (3, 2)
    assert meta["run_yahoo_rate_reached"] == 7.5  # the adaptive rate where the fetch ended
    (event,) = context.events
    assert (event.partition, event.tags) == ("2026-11-25|NVDA", {"stock_pipeline/interval": "5m"})
    assert event.metadata["rows"].value == 78
    assert event.metadata["interval"].value == "5m"
    stored = warehouse.query("SELECT symbol, count(*) AS n FROM intraday_prices GROUP BY 1")
    assert stored.to_dict("records") == [{"symbol": "NVDA", "n": 78}]


def test_partition_metadata_carries_counts_and_the_bar_span() -> None:
    outcome = PartitionOutcome(
        "2026-11-25|AAPL",
        rows=77,
        expected=78,
        requests=1,
        final=False,
        first_bar="2026-11-25T14:30:00+00:00",
        last_bar="2026-11-25T20:50:00+00:00",
    )
    assert partition_metadata(outcome, {"interval": "5m"}) == {
        "rows": 77,
        "yahoo_requests": 1,
        "final": False,
        "interval": "5m",
        "bars_expected": 78,
        "first_bar": "2026-11-25T14:30:00+00:00",
        "last_bar": "2026-11-25T20:50:00+00:00",
    }
    assert partition_metadata(PartitionOutcome("2026|KO", rows=250), {}) == {
        "rows": 250,
        "yahoo_requests": 0,
        "final": True,
    }
