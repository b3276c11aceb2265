"""Partition rectangles as run requests, and the cells unfinished runs already cover."""

from datetime import date

import dagster as dg

from stock_pipeline.definitions import defs
from stock_pipeline.defs.run_requests import (
    intraday_slices,
    run_request,
    symbol_slices,
    unfinished_cells,
)
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.services.sync import slice_runs

ORDER = ["AAPL", "MSFT", "IBM", "KO"]
DAYS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]


def test_cells_become_few_exact_rectangles_in_registration_order() -> None:
    cells = [(s, d) for s in ["AAPL", "MSFT"] for d in DAYS] + [("KO", DAYS[2])]
    runs = intraday_slices(ORDER, DAYS, cells)
    assert [(r.first_key, r.last_key, len(r.keys)) for r in runs] == [
        ("2026-11-23|AAPL", "2026-11-25|MSFT", 6),
        ("2026-11-25|KO", "2026-11-25|KO", 1),
    ]
    assert {k for r in runs for k in r.keys} == {f"{d}|{s}" for s, d in cells}
    years = slice_runs([("IBM", 2025), ("IBM", 2026)], ORDER, [2025, 2026], history_key)
    assert [(r.first_key, r.last_key) for r in years] == [("2025|IBM", "2026|IBM")]


def test_symbol_ranges_follow_registration_order_not_the_alphabet() -> None:
    runs = symbol_slices(ORDER, {"KO", "MSFT", "IBM"})
    assert [(r.first_key, r.last_key) for r in runs] == [("MSFT", "KO")]
    assert [r.keys for r in symbol_slices(ORDER, {"AAPL", "IBM"})] == [("AAPL",), ("IBM",)]


def test_a_request_carries_range_tags_config_and_a_key_per_range() -> None:
    (run,) = intraday_slices(ORDER, DAYS[:1], [("AAPL", DAYS[0]), ("MSFT", DAYS[0])])
    request = run_request(run, "tick-1", "sensor", interval="5m", run_config={"ops": {}})
    assert request.tags == {
        "dagster/asset_partition_range_start": "2026-11-23|AAPL",
        "dagster/asset_partition_range_end": "2026-11-23|MSFT",
        "stock_pipeline/origin": "sensor",
        "stock_pipeline/interval": "5m",
    }
    assert request.run_key == "tick-1:2026-11-23|AAPL:2026-11-23|MSFT"


def test_unfinished_runs_cover_their_rectangle_of_any_job(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("symbols", ORDER)
    job = defs.resolve_job_def("intraday_prices_job")
    started = dg.DagsterRunStatus.STARTED
    instance.create_run_for_job(
        job,
        status=started,
        tags={
            "dagster/asset_partition_range_start": "2026-11-24|MSFT",
            "dagster/asset_partition_range_end": "2026-11-25|IBM",
        },
    )
    instance.create_run_for_job(job, status=started, tags={"dagster/partition": "2026-11-23|KO"})
    daily = defs.resolve_job_def("daily_prices_job")
    instance.create_run_for_job(daily, status=started, tags={"dagster/partition": "2026|AAPL"})
    done = instance.create_run_for_job(job, tags={"dagster/partition": "2026-11-23|AAPL"})
    instance.report_run_failed(done)
    assert unfinished_cells(instance, ORDER, DAYS) == {
        ("MSFT", DAYS[1]),
        ("MSFT", DAYS[2]),
        ("IBM", DAYS[1]),
        ("IBM", DAYS[2]),
        ("KO", DAYS[0]),
    }
