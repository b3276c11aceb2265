"""Tallying a sync per symbol: partitions, rows, and each Yahoo window's requests once."""

from __future__ import annotations

from stock_pipeline.services.run_report import PartitionReport, RunReport
from stock_pipeline.services.sync import RunSlice, SyncPlan
from stock_pipeline.services.sync_progress import SyncTally

KEYS = [f"2026-11-{d}|{s}" for s in ("AAPL", "MSFT") for d in (23, 24, 25)]


def plan(asset: str = "intraday_prices", todo: list[str] = KEYS) -> SyncPlan:
    return SyncPlan(
        asset=asset,
        job=f"{asset}_job",
        interval="5m" if asset == "intraday_prices" else "1d",
        symbols=sorted({k.split("|")[1] for k in todo}),
        todo=todo,
        skipped=[],
        runs=[],
        expected_bars=None,
        price_requests=0,
    )


def run_of(keys: list[str]) -> RunSlice:
    return RunSlice(keys[0], keys[-1], tuple(keys))


def stored(*keys: str, rows: int = 78, requests: int = 1) -> dict[str, PartitionReport]:
    return {k: PartitionReport(k, rows, requests, "5m") for k in keys}


def test_a_window_serving_three_days_counts_its_request_once() -> None:
    tally = SyncTally.for_plan(plan())
    tally.add(
        run_of(KEYS[:3]),
        RunReport("r1", "SUCCESS", stored=stored(*KEYS[:3]), requests=4, price_requests=1),
    )
    aapl, msft = tally.symbols["AAPL"], tally.symbols["MSFT"]
    assert (aapl.stored, aapl.failed, aapl.rows, aapl.requests, aapl.done) == (3, 0, 234, 1, True)
    assert (msft.stored, msft.done) == (0, False)
    assert tally.requests == 4  # cookie, crumb and timezone count in the total only
    assert tally.progress_line(2.0) == (
        "  progress: 1/2 symbols, 3/6 partitions (3 stored, 0 failed), 234 rows, "
        "4 Yahoo requests, 2.0s"
    )


def test_failed_windows_get_the_rest_of_the_run_requests() -> None:
    tally = SyncTally.for_plan(plan())
    reasons = {k: "SymbolNotFoundError: gone" for k in KEYS[3:]}
    tally.add(
        run_of(KEYS),
        RunReport(
            "r1",
            "FAILURE",
            stored=stored(*KEYS[:3]),
            failed=reasons,
            requests=6,
            price_requests=3,  # AAPL's window once, MSFT's tried twice
        ),
    )
    assert tally.symbols["AAPL"].requests == 1
    assert (tally.symbols["MSFT"].failed, tally.symbols["MSFT"].requests) == (3, 2)
    assert tally.failures == reasons
    assert tally.table() == [
        "symbol  stored  failed       rows  requests",
        "AAPL         3       0        234         1",
        "MSFT         0       3          0         2",
    ]


def test_a_run_that_failed_as_a_whole_fails_what_it_did_not_store() -> None:
    tally = SyncTally.for_plan(plan())
    tally.add(
        run_of(KEYS[3:]),
        RunReport("r2", "FAILURE", stored=stored(KEYS[3]), failure="IO manager refused\nmore"),
    )
    assert (tally.symbols["MSFT"].stored, tally.symbols["MSFT"].failed) == (1, 2)
    assert set(tally.failures.values()) == {"IO manager refused"}


def test_history_runs_spend_one_request_per_symbol() -> None:
    keys = ["2025|AAPL", "2026|AAPL"]
    tally = SyncTally.for_plan(plan("daily_prices", keys))
    tally.add(
        run_of(keys),
        RunReport("r3", "SUCCESS", stored=stored(*keys, rows=250), requests=3, price_requests=1),
    )
    assert (tally.symbols["AAPL"].requests, tally.rows) == (1, 500)
