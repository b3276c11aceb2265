"""Runs of one backfill share their Yahoo requests (``defs.assets.backfill_windows``).

The backfill machinery itself (GraphQL launch, the daemon cutting the backfill into runs)
is exercised end to end by B1's smoke run in ``test_bench.py``; here a run's context is
a stub naming a job backfill, so each behaviour is checked on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pandas as pd
import pytest
import yfinance.data

from stock_pipeline.defs.assets.backfill_windows import (
    BACKFILL_TAG,
    fetch_intraday_for_run,
    merge_batches,
    prune_backfill_files,
    read_manifest,
    split_batch,
)
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.partition_keys import SymbolDay, intraday_key
from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.batch import BatchResult, PartitionOutcome
from stock_pipeline.yahoo.client import YahooClient, YahooSettings
from stock_pipeline_tests.support.frames import bars

DAYS = sessions_between(date(2026, 11, 18), date(2026, 11, 24))  # 5 closed sessions
SYMBOLS = ("AAPL", "MSFT")


ASSET_KEY = dg.AssetKey("intraday_prices")
LOG = logging.getLogger(__name__)


@dataclass
class StubContext:
    """What ``fetch_intraday_for_run`` reads of an asset's execution context."""

    tags: dict[str, str]
    backfill_keys: list[str] = field(default_factory=list)
    asset_key: dg.AssetKey = ASSET_KEY
    log: logging.Logger = LOG

    @property
    def run(self) -> Any:
        return SimpleNamespace(tags=self.tags)

    @property
    def instance(self) -> Any:
        backfill = SimpleNamespace(
            is_asset_backfill=False,
            partition_names=self.backfill_keys,
            status=SimpleNamespace(value="REQUESTED"),
        )
        return SimpleNamespace(get_backfill=lambda _id: backfill)


@pytest.fixture
def client(fake_yahoo: FakeYahoo, tmp_path: Path) -> YahooClient:
    return YahooClient(
        YahooSettings(base_url=fake_yahoo.url, requests_per_second=0, cache_dir=str(tmp_path))
    )


@pytest.fixture
def warehouse(duckdb_file: Path) -> WarehouseResource:
    return WarehouseResource(path=str(duckdb_file))


def price_requests(fake: FakeYahoo) -> int:
    return sum(1 for r in fake.log if r.kind == "chart" and "period1" in r.query)


def backfill_context(backfill_id: str) -> Any:
    keys = [intraday_key(s, d) for s in SYMBOLS for d in DAYS]
    return StubContext(tags={BACKFILL_TAG: backfill_id}, backfill_keys=keys)


def day_run(day: date) -> list[SymbolDay]:
    return [SymbolDay(s, day) for s in SYMBOLS]


def test_later_runs_of_a_backfill_ask_yahoo_nothing(
    client: YahooClient, warehouse: WarehouseResource, fake_yahoo: FakeYahoo
) -> None:
    context = backfill_context("bf1")
    first = fetch_intraday_for_run(context, client, warehouse, day_run(DAYS[0]), "5m", 2)
    assert price_requests(fake_yahoo) == len(SYMBOLS)  # one window per symbol, all 5 days
    assert set(first.outcomes) == {intraday_key(s, DAYS[0]) for s in SYMBOLS}
    assert set(first.frame["session_date"]) == {DAYS[0]}  # the run returns only its own

    for day in DAYS[1:]:
        later = fetch_intraday_for_run(context, client, warehouse, day_run(day), "5m", 2)
        assert set(later.outcomes) == {intraday_key(s, day) for s in SYMBOLS}
        assert all(o.requests == 0 and o.rows == 78 for o in later.outcomes.values())
        assert later.requests["chart"] == 0
        assert set(later.frame["session_date"]) == {day}
        assert list(later.frame.columns) == list(first.frame.columns)
    assert price_requests(fake_yahoo) == len(SYMBOLS)


def test_the_other_days_are_stored_and_listed_for_the_backfill(
    client: YahooClient, warehouse: WarehouseResource, duckdb_file: Path
) -> None:
    fetch_intraday_for_run(backfill_context("bf2"), client, warehouse, day_run(DAYS[0]), "5m", 2)
    with connect(duckdb_file, read_only=True) as con:
        stored = con.execute(
            "SELECT DISTINCT session_date FROM intraday_prices ORDER BY 1"
        ).fetchall()
    assert [d for (d,) in stored] == DAYS[1:]  # the run's own day is the IO manager's
    manifest = duckdb_file.parent / "backfills" / "bf2-5m.json"
    assert read_manifest(manifest) == {intraday_key(s, d) for s in SYMBOLS for d in DAYS[1:]}


def test_another_backfill_fetches_again(
    client: YahooClient, warehouse: WarehouseResource, fake_yahoo: FakeYahoo
) -> None:
    fetch_intraday_for_run(backfill_context("bf3"), client, warehouse, day_run(DAYS[0]), "5m", 2)
    yfinance.data.YfData.cache_get.cache_clear()  # as a new run process would start
    fetch_intraday_for_run(backfill_context("bf4"), client, warehouse, day_run(DAYS[1]), "5m", 2)
    assert price_requests(fake_yahoo) == 2 * len(SYMBOLS)  # a backfill means "fetch again"


def test_a_run_outside_a_backfill_fetches_only_its_own_partitions(
    client: YahooClient, warehouse: WarehouseResource, duckdb_file: Path
) -> None:
    outside: Any = StubContext(tags={})
    result = fetch_intraday_for_run(outside, client, warehouse, day_run(DAYS[0]), "5m", 2)
    assert set(result.outcomes) == {intraday_key(s, DAYS[0]) for s in SYMBOLS}
    assert not duckdb_file.exists()  # nothing stored ahead


def test_split_and_merge_keep_rows_outcomes_and_requests() -> None:
    frame = pd.concat([bars("AAPL", DAYS[0]), bars("AAPL", DAYS[1])], ignore_index=True)
    keys = [intraday_key("AAPL", d) for d in DAYS[:2]]
    batch = BatchResult(frame=frame, outcomes={k: PartitionOutcome(k, rows=78) for k in keys})
    batch.requests["chart"] = 1
    mine, others = split_batch(batch, {keys[0]})
    assert set(mine.frame["session_date"]) == {DAYS[0]} and set(mine.outcomes) == {keys[0]}
    assert set(others.frame["session_date"]) == {DAYS[1]} and set(others.outcomes) == {keys[1]}
    assert mine.requests["chart"] == 1 and others.requests["chart"] == 0
    merged = merge_batches(mine, others)
    assert len(merged.frame) == len(frame) and set(merged.outcomes) == set(keys)


def test_files_of_ended_backfills_are_pruned_and_live_ones_kept(tmp_path: Path) -> None:
    statuses = {"livebf01": "REQUESTED", "donebf01": "COMPLETED_SUCCESS", "failbf01": "FAILED"}
    instance: Any = SimpleNamespace(
        get_backfill=lambda i: (
            SimpleNamespace(status=SimpleNamespace(value=statuses[i])) if i in statuses else None
        )
    )
    folder = tmp_path / "backfills"
    folder.mkdir()
    for backfill_id in [*statuses, "gonebf01"]:  # gonebf01: no longer known to the instance
        (folder / f"{backfill_id}.lock").touch()
        (folder / f"{backfill_id}-5m.json").write_text('{"stored": []}')
    assert prune_backfill_files(instance, folder) == ["donebf01", "failbf01", "gonebf01"]
    assert sorted(p.name for p in folder.iterdir()) == ["livebf01-5m.json", "livebf01.lock"]
    assert prune_backfill_files(instance, tmp_path / "absent") == []
