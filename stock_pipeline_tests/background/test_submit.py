"""Submitting syncs: eager runs finish in this process; otherwise runs wait in the queue."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from stock_pipeline.background import (
    JobStatus,
    submit_current_prices,
    submit_historical_sync,
    submit_intraday_sync,
    submit_symbol_sync,
)
from stock_pipeline.domain.errors import InvalidDateRangeError, InvalidSymbolError
from stock_pipeline.domain.trading_calendar import expected_bar_count
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.tables import connect

DAY = date(2026, 11, 25)  # the suite's latest session


def test_eager_sync_returns_a_finished_handle_with_per_symbol_results(
    instance_with_symbols: dg.DagsterInstance, duckdb_file: Path
) -> None:
    handle = submit_intraday_sync(["AAPL", "ZZGONE"], eager=True, instance=instance_with_symbols)
    assert handle.ready() and handle.status == JobStatus.FAILED
    assert len(handle.run_ids) == 2  # AAPL and ZZGONE are not adjacent in registration order
    result = handle.result
    assert result is not None and result.status == "failed"
    symbols = result.by_symbol()
    with connect(duckdb_file, read_only=True) as con:
        (stored,) = con.execute(
            "SELECT count(*) FROM intraday_prices WHERE symbol = 'AAPL'"
        ).fetchall()[0]
    assert symbols["AAPL"].rows == stored == result.rows
    assert 0 < stored <= expected_bar_count(DAY, "5m")
    assert symbols["AAPL"].stored == ["2026-11-25|AAPL"] and not symbols["AAPL"].failed
    assert symbols["ZZGONE"].rows == 0
    assert symbols["ZZGONE"].failed["2026-11-25|ZZGONE"].startswith("SymbolNotFoundError")
    assert result.partitions["2026-11-25|AAPL"].requests >= 1
    assert result.requests >= 2  # a price request for each symbol, at least
    for run_id in handle.run_ids:
        run = instance_with_symbols.get_run_by_id(run_id)
        assert run is not None and run.tags["stock_pipeline/origin"] == "background"
        assert run.tags["stock_pipeline/interval"] == "5m"


def test_the_eager_environment_variable_runs_in_process(
    instance_with_symbols: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_EAGER", "1")
    handle = submit_symbol_sync("MSFT", interval="15m", instance=instance_with_symbols)
    result = handle.wait(timeout=0)
    assert result.succeeded and list(result.partitions) == ["2026-11-25|MSFT"]
    assert result.partitions["2026-11-25|MSFT"].interval == "15m"


def test_a_complete_sync_has_no_runs_and_is_done(
    instance_with_symbols: dg.DagsterInstance,
) -> None:
    first = submit_symbol_sync("AAPL", interval="30m", eager=True, instance=instance_with_symbols)
    assert first.status == "succeeded"
    again = submit_symbol_sync("AAPL", interval="30m", instance=instance_with_symbols)
    assert again.run_ids == () and again.status == JobStatus.SUCCEEDED
    result = again.wait(timeout=0)
    assert result.skipped == ["2026-11-25|AAPL"] and result.rows == 0


def test_historical_and_current_price_syncs_eagerly(
    instance_with_symbols: dg.DagsterInstance, fake_yahoo: FakeYahoo
) -> None:
    history = submit_historical_sync(
        ["MSFT"], period="2y", eager=True, instance=instance_with_symbols
    ).wait(timeout=0)
    assert history.succeeded
    assert sorted(history.partitions) == ["2024|MSFT", "2025|MSFT", "2026|MSFT"]
    assert history.rows > 500  # about 252 sessions a year
    fake_yahoo.reset_counters()
    quotes = submit_current_prices(eager=True, instance=instance_with_symbols).wait(timeout=0)
    assert quotes.status == "succeeded"
    assert quotes.requests == fake_yahoo.requests["quote"] >= 1


def test_without_eager_the_runs_wait_in_the_queue_for_the_daemon(
    instance_with_symbols: dg.DagsterInstance, fake_yahoo: FakeYahoo
) -> None:
    handle = submit_intraday_sync(
        ["AAPL", "MSFT"],
        start="2026-11-23",
        end=DAY,
        batch_size=1,
        delay=0.5,
        instance=instance_with_symbols,
    )
    assert len(handle.run_ids) == 2  # one symbol per run
    assert handle.status == JobStatus.QUEUED and not handle.ready() and handle.result is None
    assert fake_yahoo.requests["chart"] == 0
    runs = [instance_with_symbols.get_run_by_id(r) for r in handle.run_ids]
    for run, symbol in zip(runs, ["AAPL", "MSFT"], strict=True):
        assert run is not None and run.status == dg.DagsterRunStatus.QUEUED
        assert run.job_name == "intraday_prices_job"
        assert run.remote_job_origin is not None
        assert run.remote_job_origin.location_name == "stock_pipeline"  # as in workspace.yaml
        assert run.tags["dagster/asset_partition_range_start"] == f"2026-11-23|{symbol}"
        assert run.tags["dagster/asset_partition_range_end"] == f"2026-11-25|{symbol}"
        assert run.tags["stock_pipeline/origin"] == "background"
        config: Any = run.run_config
        yahoo = config["resources"]["yahoo"]["config"]
        assert yahoo["requests_per_second"] == 2.0  # 0.5 s between requests
        assert yahoo["max_requests_per_second"] == 2.0  # a pace asked for: it does not climb
    with pytest.raises(TimeoutError, match="dagster-daemon is not running"):
        handle.wait(timeout=0.1, poll_interval=0.05)
    assert handle.cancel() == list(handle.run_ids)
    assert handle.status == JobStatus.CANCELED
    assert handle.wait(timeout=0).errors == {r: "CANCELED" for r in handle.run_ids}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda i: submit_intraday_sync(["TSLA"], instance=i), InvalidSymbolError),
        (lambda i: submit_intraday_sync(start="2026-13-01", instance=i), InvalidDateRangeError),
        (lambda i: submit_intraday_sync(delay=0, instance=i), ValueError),
        (lambda i: submit_historical_sync(period="1y", start="2026-01-01", instance=i), ValueError),
    ],
)
def test_bad_arguments_raise_before_anything_is_queued(
    instance_with_symbols: dg.DagsterInstance,
    call: Callable[[dg.DagsterInstance], object],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        call(instance_with_symbols)
    assert instance_with_symbols.get_runs() == []


def test_current_prices_need_registered_symbols(instance: dg.DagsterInstance) -> None:
    with pytest.raises(InvalidSymbolError, match="no symbols are registered"):
        submit_current_prices(instance=instance)
