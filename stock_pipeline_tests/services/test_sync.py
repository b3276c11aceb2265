"""Sync planning: symbols and days checked, complete partitions skipped, few runs, then run."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline import settings
from stock_pipeline.definitions import defs
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.errors import (
    InvalidDateRangeError,
    InvalidSymbolError,
    LookbackExceededError,
)
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.run_keys import DAILY_OP, INTRADAY_OP, price_run_config
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW
from stock_pipeline.reporting.status import collect_status
from stock_pipeline.services.sync import (
    execute_plan,
    history_years,
    intraday_days,
    plan_history,
    plan_intraday,
    resolve_symbols,
    slice_runs,
)
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars, daily_row
from stock_pipeline_tests.support.pipeline import Pipeline

NOW = DEFAULT_TEST_NOW  # Wednesday 2026-11-25, 16:30 New York: after the close
MON, TUE, WED = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)


@pytest.fixture
def registered(instance: dg.DagsterInstance) -> dg.DagsterInstance:
    instance.add_dynamic_partitions("symbols", ["MSFT", "AAPL", "KO"])
    return instance


def test_symbols_come_in_registration_order_and_must_be_registered(
    registered: dg.DagsterInstance, instance: dg.DagsterInstance
) -> None:
    order = ["MSFT", "AAPL", "KO"]
    assert resolve_symbols(registered, None) == (order, order)
    assert resolve_symbols(registered, ["KO", "MSFT"]) == (["MSFT", "KO"], order)
    with pytest.raises(InvalidSymbolError, match="symbols add IBM,NVDA"):
        resolve_symbols(registered, ["IBM", "AAPL", "NVDA"])


def test_without_registered_symbols_the_message_says_how_to_add_some() -> None:
    with dg.instance_for_test() as empty, pytest.raises(InvalidSymbolError, match="symbols add"):
        resolve_symbols(empty, None)


def test_intraday_days_default_to_the_latest_session_and_skip_holidays() -> None:
    assert intraday_days(None, None, "5m", NOW) == [WED]
    assert intraday_days(MON, None, "5m", NOW) == [MON, TUE, WED]
    assert intraday_days(date(2026, 11, 20), date(2026, 11, 30), "5m", NOW) == [
        date(2026, 11, 20),
        MON,
        TUE,
        WED,
    ]  # the end is clipped to today


@pytest.mark.parametrize(
    ("start", "end", "interval", "error", "says"),
    [
        (WED, MON, "5m", InvalidDateRangeError, "is after end date"),
        (date(2026, 11, 27), date(2026, 11, 30), "5m", InvalidDateRangeError, "in the future"),
        (date(2026, 11, 21), date(2026, 11, 22), "5m", InvalidDateRangeError, "weekend or holiday"),
        (date(2026, 3, 2), None, "60m", InvalidDateRangeError, "use sync-historical"),
        (date(2026, 10, 1), None, "1m", LookbackExceededError, "1m"),
    ],
)
def test_impossible_intraday_days_are_refused(
    start: date, end: date | None, interval: str, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        intraday_days(start, end, interval, NOW)


def test_the_first_intraday_day_follows_the_window_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    september = date(2026, 9, 1)  # 60m bars reach back 730 days: only the window refuses it
    with pytest.raises(InvalidDateRangeError, match=r"\(2026-09-23\).*last 63 days"):
        intraday_days(september, september, "60m", NOW)  # the default: 63 days back
    first = date(2026, 9, 23)  # NOW's date less 63 days, a Wednesday: the first partition
    assert intraday_days(first, first, "60m", NOW) == [first]
    monkeypatch.setenv(settings.INTRADAY_WINDOW_DAYS_ENV, "120")
    assert intraday_days(september, september, "60m", NOW) == [september]


def test_history_years_from_a_period_or_dates() -> None:
    assert history_years("2y", None, None, WED) == [2024, 2025, 2026]
    assert history_years("max", None, None, WED)[0] == 1980
    assert history_years(None, date(1970, 1, 1), date(1981, 6, 1), WED) == [1980, 1981]
    # Weekly: the years of the weeks holding the dates (a week is its Monday's year).
    jan_2, jan_3 = date(2025, 1, 2), date(2026, 1, 2)
    assert history_years(None, jan_2, jan_3, WED) == [2025, 2026]
    assert history_years(None, jan_2, jan_3, WED, "1wk") == [2024, 2025]
    assert history_years("1y", None, None, jan_3, "1wk") == [2025]
    assert history_years("1y", None, None, date(2026, 1, 5), "1wk") == [2025, 2026]
    with pytest.raises(InvalidDateRangeError, match="not both"):
        history_years("1y", MON, None, WED)
    with pytest.raises(InvalidDateRangeError, match="both --start-date and --end-date"):
        history_years(None, MON, None, WED)


def test_a_batch_size_bounds_the_symbols_per_run() -> None:
    cells = [(s, d) for s in ["MSFT", "AAPL", "KO"] for d in [MON, TUE, WED]]
    (whole,) = slice_runs(cells, ["MSFT", "AAPL", "KO"], [MON, TUE, WED], intraday_key)
    assert (whole.first_key, whole.last_key, len(whole.keys)) == (
        "2026-11-23|MSFT",
        "2026-11-25|KO",
        9,
    )
    small = slice_runs(cells, ["MSFT", "AAPL", "KO"], [MON, TUE, WED], intraday_key, 2)
    assert [(run.first_key, run.last_key, len(run.keys)) for run in small] == [
        ("2026-11-23|MSFT", "2026-11-25|AAPL", 6),
        ("2026-11-23|KO", "2026-11-25|KO", 3),
    ]
    assert sorted(k for run in small for k in run.keys) == sorted(whole.keys)


def store_final(database: Path, symbol: str, day: date) -> None:
    fetched = {"fetched_at": datetime(day.year, day.month, day.day, 23, 0, tzinfo=UTC)}
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, bars(symbol, day), fetched)


def test_complete_partitions_are_skipped_unless_forced(
    registered: dg.DagsterInstance, duckdb_file: Path
) -> None:
    store_final(duckdb_file, "AAPL", TUE)
    plan = plan_intraday(registered, duckdb_file, None, "5m", [TUE, WED], force=False)
    assert plan.skipped == ["2026-11-24|AAPL"]
    assert set(plan.todo) == {
        f"{d}|{s}" for s in ["MSFT", "AAPL", "KO"] for d in ["2026-11-24", "2026-11-25"]
    } - {"2026-11-24|AAPL"}
    assert sorted(k for run in plan.runs for k in run.keys) == sorted(plan.todo)
    assert plan.expected_bars == 5 * 78
    assert plan.run_config == price_run_config(INTRADAY_OP, "5m")
    assert plan.describe()[0] == (
        "intraday_prices at 5m: 5 partition(s) to fetch for 3 symbol(s), "
        "1 already complete or confirmed short (skipped)"
    )
    forced = plan_intraday(registered, duckdb_file, ["AAPL"], "1h", [TUE], force=True)
    assert (forced.interval, forced.todo, forced.skipped) == ("60m", ["2026-11-24|AAPL"], [])


def test_past_history_years_stored_are_skipped_the_current_one_never(
    registered: dg.DagsterInstance, duckdb_file: Path
) -> None:
    warehouse = WarehouseResource(path=str(duckdb_file))
    for day in (date(2025, 6, 2), date(2026, 6, 1)):
        frame = daily_row("KO", day, "1d")
        warehouse.write(DAILY_PRICES, frame, {"fetched_at": NOW})
    plan = plan_history(registered, duckdb_file, ["KO"], "1d", [2025, 2026], False)
    assert (plan.skipped, plan.todo) == (["2025|KO"], ["2026|KO"])
    assert plan.run_config == price_run_config(DAILY_OP, "1d")
    assert plan.price_requests == 1


def test_a_weekly_year_is_done_only_once_its_last_week_is_final(
    registered: dg.DagsterInstance, duckdb_file: Path
) -> None:
    warehouse = WarehouseResource(path=str(duckdb_file))

    def store(week: date, arrived: datetime) -> None:
        frame = daily_row("KO", week, "1wk")
        warehouse.write(DAILY_PRICES, frame, {"fetched_at": arrived})

    # Both years fetched after Dec 31's close: 2024's last week (Monday 2024-12-30) ended on
    # Friday 2025-01-03, but 2025's (Monday 2025-12-29) holds Friday 2026-01-02's session.
    new_years_eve = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)
    for week in (date(2024, 12, 30), date(2025, 12, 29)):
        store(week, new_years_eve)
    plan = plan_history(registered, duckdb_file, ["KO"], "1wk", [2024, 2025], False)
    assert (plan.skipped, plan.todo) == (["2024|KO"], ["2025|KO"])
    # Fetched again after 2026-01-02's close plus the grace: final.
    store(date(2025, 12, 29), datetime(2026, 1, 2, 21, 30, tzinfo=UTC))
    later = plan_history(registered, duckdb_file, ["KO"], "1wk", [2024, 2025], False)
    assert (later.skipped, later.todo) == (["2024|KO", "2025|KO"], [])


def test_a_plan_runs_through_dagster_and_then_has_nothing_left(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    plan = plan_intraday(pipeline.instance, pipeline.database, None, "5m", [TUE], force=False)
    seen: list[str] = []
    (report,) = execute_plan(
        pipeline.instance,
        plan,
        defs,
        yahoo={"requests_per_second": 0, "backoff_seconds": 0.01},
        on_run=lambda run, rep: seen.append(run.first_key),
    )
    assert report.succeeded and report.rows == 78 and seen == ["2026-11-24|AAPL"]
    run = pipeline.instance.get_run_by_id(report.run_id)
    assert run is not None
    assert run.tags["stock_pipeline/origin"] == "cli"
    assert run.tags["stock_pipeline/interval"] == "5m"
    again = plan_intraday(pipeline.instance, pipeline.database, None, "5m", [TUE], force=False)
    assert (again.todo, again.runs, again.skipped) == ([], [], ["2026-11-24|AAPL"])


YAHOO = {"requests_per_second": 0, "backoff_seconds": 0.01}


def move_clock(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Yahoo's clock and ours, together: each sync's answers arrive at a new instant."""
    pipeline.fake.config.now = instant
    monkeypatch.setenv("STOCK_PIPELINE_NOW", instant.isoformat())


def sync_intraday(pipeline: Pipeline, day: date) -> list[str]:
    """A sync without --force of one session at 5m; the partitions it fetched."""
    plan = plan_intraday(pipeline.instance, pipeline.database, None, "5m", [day], force=False)
    for report in execute_plan(pipeline.instance, plan, defs, yahoo=YAHOO):
        assert report.succeeded
    return plan.todo


def partition_metadata(pipeline: Pipeline, key: str) -> dict[str, object]:
    event = pipeline.instance.get_latest_materialization_event(dg.AssetKey("intraday_prices"))
    records = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("intraday_prices"), asset_partitions=[key]),
        limit=1,
    ).records
    assert event is not None and records
    materialization = records[0].asset_materialization
    assert materialization is not None
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


@pytest.mark.fake_yahoo(truncated_sessions={("AAPL", TUE): 60}, null_bar_every=0)
def test_a_short_session_is_fetched_again_then_confirmed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Yahoo keeps serving TUE without its last hour: the first final fetch and two more,
    then the session is accepted as short and later syncs skip it."""
    pipeline.register(["AAPL"])
    key = "2026-11-24|AAPL"
    bars_stored = "SELECT count(*) AS n FROM intraday_prices WHERE session_date = ?"
    for attempt in (1, 2, 3):
        move_clock(pipeline, monkeypatch, NOW + timedelta(hours=attempt))
        assert sync_intraday(pipeline, TUE) == [key]
        assert pipeline.query(bars_stored, [TUE])["n"][0] == 78 - 12  # last hour missing
        note = str(partition_metadata(pipeline, key)["short_session"])
        assert partition_metadata(pipeline, key)["short_session_fetches"] == attempt
        assert ("confirmed" in note) == (attempt == 3), note
        # The bar count fails while a repair is pending; once Yahoo confirmed it, it is
        # what Yahoo has: reported, not a failure.
        verdict = str(partition_metadata(pipeline, key)["check/bar_count_matches_calendar"])
        assert (verdict == "passed") == (attempt == 3), verdict
        report = collect_status(pipeline.instance, pipeline.database, settings.now())
        (aapl,) = report.symbols
        assert (TUE in aapl.short, TUE in aapl.short_confirmed) == (attempt < 3, attempt == 3)
    requests = pipeline.price_requests()
    move_clock(pipeline, monkeypatch, NOW + timedelta(hours=4))
    plan = plan_intraday(pipeline.instance, pipeline.database, None, "5m", [TUE], force=False)
    assert (plan.todo, plan.skipped) == ([], [key])
    assert pipeline.price_requests() == requests
    stored = pipeline.query(
        "SELECT bars, expected, fetches, confirmed_at FROM short_sessions WHERE symbol = 'AAPL'"
    )
    assert stored[["bars", "expected", "fetches"]].values.tolist() == [[66, 78, 3]]
    assert stored["confirmed_at"][0] == pd.Timestamp(NOW + timedelta(hours=3))
    forced = plan_intraday(pipeline.instance, pipeline.database, None, "5m", [TUE], force=True)
    assert forced.todo == [key]


@pytest.mark.fake_yahoo(truncated_sessions={("AAPL", TUE): 60}, null_bar_every=0)
def test_a_short_session_yahoo_completes_later_is_repaired(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.register(["AAPL"])
    key = "2026-11-24|AAPL"
    assert sync_intraday(pipeline, TUE) == [key]
    pipeline.fake.config.truncated_sessions = {}  # Yahoo has the bars now
    move_clock(pipeline, monkeypatch, NOW + timedelta(hours=1))
    assert sync_intraday(pipeline, TUE) == [key]
    assert pipeline.query("SELECT count(*) AS n FROM intraday_prices")["n"][0] == 78
    assert pipeline.query("SELECT count(*) AS n FROM short_sessions")["n"][0] == 0
    assert str(partition_metadata(pipeline, key)["short_session"]).startswith("repaired")
    assert sync_intraday(pipeline, TUE) == []


def test_a_year_fetched_at_the_last_close_is_fetched_once_more_then_skipped(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2025's daily bars fetched at 16:00 on Dec 31 hold a close Yahoo may still amend: the
    next sync fetches the year again, once; after that it is final and skipped."""
    pipeline.register(["KO"])
    move_clock(pipeline, monkeypatch, datetime(2025, 12, 31, 21, 0, tzinfo=UTC))  # 16:00 NY

    def sync() -> list[str]:
        plan = plan_history(pipeline.instance, pipeline.database, None, "1d", [2025], False)
        for report in execute_plan(pipeline.instance, plan, defs, yahoo=YAHOO):
            assert report.succeeded
        return plan.todo

    assert sync() == ["2025|KO"]
    move_clock(pipeline, monkeypatch, datetime(2025, 12, 31, 21, 10, tzinfo=UTC))  # in grace
    assert sync() == ["2025|KO"]
    later = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    move_clock(pipeline, monkeypatch, later)
    assert sync() == ["2025|KO"]
    fetched = pipeline.query(
        "SELECT max(date) AS last, min(fetched_at) AS fetched FROM daily_prices WHERE year = 2025"
    )
    assert fetched["last"][0] == pd.Timestamp("2025-12-31")
    assert fetched["fetched"][0] == pd.Timestamp(later)
    assert sync() == []
    plan = plan_history(pipeline.instance, pipeline.database, None, "1d", [2025], False)
    assert plan.skipped == ["2025|KO"]
