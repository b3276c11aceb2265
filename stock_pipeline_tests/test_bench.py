"""Every benchmark at its reduced size, end to end, so that none of them rots.

The figures are checked for sense (requests, rows, verdict inputs), never for speed: the
timing targets are the benchmarks' business (``python -m bench``, BENCHMARKS.md).
"""

from __future__ import annotations

import pytest

from bench import (
    b1_backfill_requests,
    b2_scheduled_sync,
    b4_completeness,
    b5_current_prices,
    b6_write_memory,
    b7_rate_limit,
    b8_scale,
    b9_history,
    b11_reverify,
    b12_lake,
    fake_timing,
    p1_progress_channel,
)
from bench.harness import Result, format_table

pytestmark = [
    pytest.mark.bench,
    # Raised inside Dagster's backfill daemon code (B1), not by the project.
    pytest.mark.filterwarnings("ignore:Function `AssetSelection.sources`:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Non-compliant tag keys:DeprecationWarning"),
]


def only(results: list[Result], wanted: str) -> Result:
    found = [r for r in results if r.id == wanted]
    assert len(found) == 1, format_table(results)
    return found[0]


def test_b1_a_dagster_backfill_costs_at_most_one_price_request_per_symbol() -> None:
    params = b1_backfill_requests.SMOKE
    b1 = only(b1_backfill_requests.run(params), "B1")
    partitions = params.symbols * params.days
    assert b1.detail["pipeline_partitions_materialized"] == partitions
    assert b1.detail["pipeline_runs"] == min(params.symbols, params.days)
    assert 0 < b1.value <= params.symbols
    assert b1.detail["pipeline_price_requests_in_run_metadata"] == b1.value
    # Dagster's default: one run per partition, each asking Yahoo for its own day.
    assert b1.detail["baseline_runs"] == partitions
    assert b1.detail["baseline_price_requests_per_run"] == 1
    assert b1.baseline == partitions and b1.met


def test_b2_the_scheduled_run_and_the_bare_script_store_the_same_rows() -> None:
    params = b2_scheduled_sync.SMOKE
    results = b2_scheduled_sync.run(params)
    for b2 in (only(results, "B2"), only(results, "B2-warm")):
        assert b2.detail["pipeline_runs"] == b2.detail["pipeline_runs_succeeded"] == 1
        assert b2.detail["pipeline_rows"] == b2.detail["baseline_rows"] > 0
        assert b2.detail["baseline_symbols_failed"] == 0
        assert b2.detail["pipeline_requests_by_kind"]["chart"] == params.symbols
        assert b2.value > 0 and b2.baseline and b2.ratio == b2.value / b2.baseline
    cold, warm = only(results, "B2").detail, only(results, "B2-warm").detail
    # First run: yfinance would probe each symbol's timezone; the pipeline asks one quote.
    assert cold["baseline_requests_by_kind"]["timezone"] == params.symbols
    assert cold["pipeline_requests_by_kind"].get("timezone", 0) == 0
    assert cold["pipeline_requests_by_kind"]["quote"] == 1
    # Later runs: both sides know every timezone; only price requests remain.
    assert warm["baseline_requests_by_kind"].get("timezone", 0) == 0
    assert warm["pipeline_requests_by_kind"].get("timezone", 0) == 0
    assert warm["pipeline_requests_by_kind"].get("quote", 0) == 0
    # A session's first sync refreshes corporate actions first; a later tick does not.
    assert cold["pipeline_requests_by_kind"]["actions"] == params.symbols
    assert warm["pipeline_requests_by_kind"].get("actions", 0) == 0


def test_b3_b6_the_io_manager_write_in_a_process_of_its_own() -> None:
    params = b6_write_memory.SMOKE
    results = b6_write_memory.run(params)
    b3, b6, f1 = only(results, "B3"), only(results, "B6"), only(results, "F1")
    assert b3.detail["rows_stored"] == b3.detail["rows"] > 0
    assert b3.value > 0 and b3.baseline and b3.ratio == pytest.approx(b3.value / b3.baseline)
    assert 50 < b6.value < 4096  # the child's peak RSS, in MiB
    assert b6.value >= max(b3.detail["peak_rss_mib"].values()) - 0.1  # (rounded)
    assert f1.detail["symbol_days"] == params.symbols * params.days


def test_b4_finds_exactly_the_missing_provisional_and_short_partitions() -> None:
    params = b4_completeness.SMOKE
    b4 = only(b4_completeness.run(params), "B4")
    cells = range(params.symbols * params.days)
    missing = {n for n in cells if n % params.missing_every == 1}
    provisional = {n for n in cells if n % params.provisional_every == 2} - missing
    short = {n for n in cells if n % params.short_every == 3} - missing  # 3 bars of 78 gone
    assert short  # the smoke run has one, fetched again (no short_sessions row yet)
    assert b4.detail["partitions"] == len(cells)
    assert b4.detail["partitions_to_fetch"] == len(missing | provisional | short)
    assert b4.detail["slices_stored"] == len(cells) - len(missing)
    assert b4.value > 0


def test_b5_current_prices_of_every_symbol_in_a_few_requests() -> None:
    params = b5_current_prices.SMOKE
    b5 = only(b5_current_prices.run(params), "B5")
    assert b5.value <= 5 and b5.met
    assert b5.detail["pipeline_prices_stored"] == params.symbols
    assert b5.detail["baseline_prices"] == params.symbols
    assert b5.detail["baseline_requests_by_kind"]["chart"] == params.symbols


def test_b7_the_sync_gets_no_429_at_the_recommended_rate() -> None:
    params = b7_rate_limit.SMOKE
    results = b7_rate_limit.run(params)
    b7, wall = only(results, "B7"), only(results, "B7-wall")
    assert b7.detail["responses_429"] == 0
    assert b7.detail["symbols_stored"] == params.symbols
    assert b7.detail["exit_code"] == 0
    assert b7.baseline == wall.baseline == b7.detail["requests_answered"] / params.rate_limit
    assert 0 < b7.value < wall.value  # the request phase is part of the command
    # One price request per symbol; timezones in one quote, not a probe per symbol.
    assert b7.detail["requests_by_kind"]["chart"] == params.symbols
    assert b7.detail["requests_by_kind"].get("timezone", 0) == 0


def test_b9_b10_the_adjusted_views_are_read_whole_and_actions_cost_one_request_each() -> None:
    params = b9_history.SMOKE
    results = b9_history.run(params)
    intraday, daily, b10 = (only(results, i) for i in ("B9", "B9-daily", "B10"))
    for b9 in (intraday, daily):
        assert b9.detail["rows"] == b9.detail["table_rows"] > 0  # the view drops no row
        assert 0 < b9.detail["split_adjusted_rows"] < b9.detail["rows"]
        assert b9.ratio == b9.value / b9.baseline
    assert 0 < daily.detail["dividend_adjusted_rows"] < daily.detail["rows"]
    assert b10.detail["requests_by_kind"]["actions"] == params.action_symbols
    assert b10.met


def test_b12_the_lake_under_hourly_syncs_with_a_reader_and_maintenance() -> None:
    results = b12_lake.run(b12_lake.SMOKE)
    reader, files, size = (
        only(results, "B12-reader"),
        only(results, "B12-files"),
        only(results, "B12-bytes"),
    )
    assert reader.value > 0 and reader.baseline and reader.ratio is not None
    kept, bare = files.detail["maintained"], files.detail["unmaintained"]
    assert kept["rows"] == bare["rows"] > 0  # maintenance never loses a row
    assert kept["files"] < bare["files"] and size.value < (size.baseline or 0)
    assert kept["snapshots"] < bare["snapshots"]


def test_f2_the_fake_yahoo_answers_a_chart_request() -> None:
    f2 = only(fake_timing.run(fake_timing.SMOKE), "F2")
    assert f2.detail["answers"] == fake_timing.SMOKE.symbols
    assert f2.detail["answer_bytes"] > 1000 and f2.value > 0


def test_b8_check_bookkeeping_is_per_run_and_the_asset_page_is_measured() -> None:
    params = b8_scale.SMOKE
    results = {r.id: r for r in b8_scale.run(params)}
    sync = results["B8-sync"].detail
    assert sync["runs"] == sync["runs_succeeded"] == 1
    # Four price checks and the freshness check: one result each, whatever the partitions.
    assert results["B8-sync"].detail["check_events"] == {
        "ASSET_CHECK_EVALUATION_PLANNED": 5,
        "ASSET_CHECK_EVALUATION": 5,
    }
    assert sync["events_by_type"]["ASSET_MATERIALIZATION"] == params.sync_symbols
    # The run's partitions planned in one event (and its partitions materialized one by one).
    assert sync["events_by_type"]["ASSET_MATERIALIZATION_PLANNED"] == sync["runs"]
    run = results["B8-run"].detail
    assert run["after"]["planned_materializations"] == 1
    assert run["after_small"]["planned_materializations"] == 1
    assert run["after"]["check_execution_rows"] == 4  # the four price checks, once each
    # As before issue 13: a planned event per partition, a planned row per check and partition.
    assert run["before_small"]["planned_materializations"] == params.symbols
    assert run["before_small"]["check_execution_rows"] == 4 * params.symbols
    assert run["planned_per_partition_small"]["planned_materializations"] == params.symbols
    page = results["B8-ui"].detail
    assert set(page) == {"after_1_day", f"after_{params.days}_days", "before_after_1_day"}
    assert all(t > 0 for times in page.values() for t in times.values())
    plan = results["B8-sensor"].detail
    assert plan["dry_run_partitions"] < params.run_symbols  # the stored session is skipped
    assert plan["sensor_run_requests"] >= 1
    assert plan["submit_runs"] == plan["submit_planned_materializations"] == 1
    # The UI's mutation went to a real webserver process, which did the work.
    assert plan["backfill_launch_seconds"] > 0 < plan["backfill_launch_webserver_cpu_seconds"]
    assert results["B8-cli"].detail["symbols_list"] > 0


def test_p1_the_progress_channel_is_measured_inside_a_real_sync() -> None:
    params = p1_progress_channel.SMOKE
    p1 = only(p1_progress_channel.run(params), "P1")
    assert p1.detail["partitions_stored_with"] == p1.detail["partitions_stored_without"]
    assert p1.detail["partitions_stored_with"] == params.symbols
    assert p1.detail["rows_with"] == p1.detail["rows_without"] > 0
    assert p1.detail["writer_seconds"] > 0 and p1.detail["reader_polls"] > 0
    assert p1.detail["plain_lines_printed"] >= 1  # at least the last one
    assert 0 < p1.value < 100 and p1.unit == "%"


def test_b11_reverification_costs_one_price_request_per_symbol() -> None:
    (b11,) = b11_reverify.run(b11_reverify.SMOKE)
    assert b11.id == "B11" and b11.met
    assert b11.detail["requests_by_kind"]["chart"] == b11_reverify.SMOKE.symbols
    assert b11.detail["partitions_repaired"] == 2  # the corrected symbols' 2025
