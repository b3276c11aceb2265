"""Re-verification through the real job and the fake Yahoo: a Yahoo-side correction and a
missed split are found, reported as the matches_yahoo warning, and repaired."""

from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.defs.assets.prices import daily_prices, intraday_prices
from stock_pipeline.defs.reverification import _description, daily_prices_reverification
from stock_pipeline.domain.partition_keys import history_key
from stock_pipeline.domain.reverification import Comparison, Difference
from stock_pipeline.domain.weeks import week_of
from stock_pipeline.fake_yahoo import SplitEvent
from stock_pipeline.services.reverification import Reverification, SymbolCheck
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.pipeline import Pipeline

SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # after the sync, no new MSFT dividend
CORRECTED = date(2025, 3, 12)
FACTOR = 1.02
WEEKLY = {"interval": "1wk"}


def correct(pipeline: Pipeline) -> None:
    """Yahoo corrects MSFT's daily bar of CORRECTED, after the sync (a bad print set now)."""
    pipeline.fake.config.bad_prints = {"MSFT": (CORRECTED,)}
    pipeline.fake.config.bad_print_factor = FACTOR


def move_clock(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    pipeline.fake.config.now = instant
    monkeypatch.setenv("STOCK_PIPELINE_NOW", instant.isoformat())


def evaluation(result: dg.ExecuteInProcessResult) -> tuple[dg.AssetCheckEvaluation, dict[str, Any]]:
    assert result.success, result.get_step_failure_events()
    (found,) = result.get_asset_check_evaluations()
    assert (found.asset_key, found.check_name) == (dg.AssetKey("daily_prices"), "matches_yahoo")
    assert found.severity == dg.AssetCheckSeverity.WARN
    return found, {k: getattr(v, "value", v) for k, v in found.metadata.items()}


def raw(pipeline: Pipeline, symbol: str) -> pd.DataFrame:
    frame = pipeline.query(
        "SELECT * FROM daily_prices WHERE symbol = ? AND interval = '1d' ORDER BY date", [symbol]
    )
    return frame.set_index(pd.to_datetime(frame["date"]).dt.date)


def weekly(pipeline: Pipeline, symbol: str) -> pd.DataFrame:
    frame = pipeline.query(
        "SELECT * FROM daily_prices WHERE symbol = ? AND interval = '1wk' ORDER BY date", [symbol]
    )
    return frame.set_index(pd.to_datetime(frame["date"]).dt.date)


def aggregate(days: pd.DataFrame, ratios: list[float] | None = None) -> dict[str, float]:
    """One week's bar from its daily rows by hand: the sessions before a split inside the
    week divided by ``ratios`` (volume multiplied) first."""
    f = pd.Series(ratios or [1.0] * len(days), index=days.index)
    return {
        "open": days["open"].iloc[0] / f.iloc[0],
        "high": (days["high"] / f).max(),
        "low": (days["low"] / f).min(),
        "close": days["close"].iloc[-1],
        "volume": float((days["volume"] * f).sum()),
        "adj_close": days["adj_close"].iloc[-1],
    }


def materializations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dict[str, Any]]:
    """The run's materializations by (partition, interval tag): their metadata."""
    out = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            key = (m.partition, m.tags["stock_pipeline/interval"])
            assert key not in out
            out[key] = {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    return out


def latest_run(pipeline: Pipeline, key: str) -> str:
    (record,) = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("daily_prices"), asset_partitions=[key]),
        limit=1,
    ).records
    return record.run_id


def test_a_yahoo_correction_is_reported_and_its_year_stored_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.register(["MSFT", "AAPL"])
    assert pipeline.materialize("daily_prices", "2024|MSFT", "2026|AAPL").success
    assert pipeline.materialize("daily_prices", "2024|MSFT", "2025|MSFT", WEEKLY).success
    before = raw(pipeline, "MSFT")
    weeks_before = weekly(pipeline, "MSFT")
    synced = {y: latest_run(pipeline, history_key("MSFT", y)) for y in (2024, 2025, 2026)}

    move_clock(pipeline, monkeypatch, SATURDAY)
    correct(pipeline)
    pipeline.fake.reset_counters()
    result = pipeline.reverify()
    found, meta = evaluation(result)

    assert not found.passed
    assert pipeline.price_requests() == 2  # one chart request per symbol, every year in it
    assert meta["symbols_checked"] == 2 and meta["symbols_differing"] == 1
    assert meta["dates_compared"] > 2 * 700
    msft = meta["differing"]["MSFT"]
    assert msft["first_dates"] == [str(CORRECTED)] and msft["differing_dates"] == 1
    assert set(msft["by_column"]) >= {"open", "high", "low", "close", "adj_close"}
    assert msft["years_repaired"] == [2025] and msft["remaining_after_repair"] == 0
    # Weekly 2025 (2025-01-06 to 2026-01-04) lies within the answer (2024-2026): rebuilt.
    assert msft["weekly_years_rebuilt"] == [2025] and msft["weekly_years_to_resync"] == []
    assert meta["weekly_partitions_rebuilt"] == 1 and meta["weekly_partitions_to_resync"] == 0
    assert "MSFT" in (found.description or "") and str(CORRECTED) in (found.description or "")
    assert "weekly 2025 rebuilt" in (found.description or "")
    assert "AAPL" not in meta["differing"]

    after = raw(pipeline, "MSFT")
    assert after.loc[CORRECTED, "close"] == pytest.approx(
        before.loc[CORRECTED, "close"] * FACTOR, abs=0.006
    )
    in_2025 = [d for d in after.index if d.year == 2025]
    assert (after.loc[in_2025, "fetched_at"] == pd.Timestamp(SATURDAY)).all()
    others = [d for d in before.index if d.year != 2025]
    pd.testing.assert_frame_equal(after.loc[others], before.loc[others])  # untouched
    unchanged = [d for d in in_2025 if d != CORRECTED]
    cols = ["open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(after.loc[unchanged, cols], before.loc[unchanged, cols])

    # The corrected day's week is rebuilt: the aggregate of the corrected daily rows.
    weeks = weekly(pipeline, "MSFT")
    week = week_of(CORRECTED)
    days = after.loc[[d for d in after.index if week_of(d) == week]]
    assert len(days) == 5
    for column, value in aggregate(days).items():
        assert weeks.loc[week, column] == pytest.approx(value, rel=1e-12), column
    # The corrected Wednesday's high is now the week's (it was not before).
    assert weeks.loc[week, "high"] == after.loc[CORRECTED, "high"]
    assert weeks_before.loc[week, "high"] < after.loc[CORRECTED, "high"]
    # Every other week keeps its values; the year's slice carries the answer's arrival.
    # Weekly 2024 (no corrected day) is not written at all.
    assert list(weeks.index) == list(weeks_before.index)
    cols = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits"]
    others = [d for d in weeks.index if d != week]
    pd.testing.assert_frame_equal(weeks.loc[others, cols], weeks_before.loc[others, cols])
    rebuilt = [d for d in weeks.index if d.year == 2025]
    assert (weeks.loc[rebuilt, "fetched_at"] == pd.Timestamp(SATURDAY)).all()
    in_2024 = [d for d in weeks.index if d.year == 2024]
    pd.testing.assert_frame_equal(weeks.loc[in_2024], weeks_before.loc[in_2024])

    # Dagster's partition status follows the write: 2025 was materialized by this run, for
    # its daily and its weekly rows, with the metadata a sync records and the dates that
    # differed.
    assert latest_run(pipeline, history_key("MSFT", 2025)) == result.run_id
    events = materializations(result)
    assert set(events) == {("2025|MSFT", "1d"), ("2025|MSFT", "1wk")}
    written = events[("2025|MSFT", "1d")]
    assert written["rows"] == len(in_2025) and written["final"] is True
    assert written["check/ohlc_sane"] == "passed" and written["interval"] == "1d"
    assert written["differing_dates"] == [str(CORRECTED)]
    written = events[("2025|MSFT", "1wk")]
    assert written["rows"] == len(rebuilt) and written["interval"] == "1wk"
    assert written["final"] is True and written["rebuilt_from_daily"] is True
    assert written["first_bar"] == "2025-01-06" and written["last_bar"] == "2025-12-29"
    assert written["check/ohlc_sane"] == "passed"
    assert written["differing_dates"] == [str(CORRECTED)]
    assert latest_run(pipeline, history_key("MSFT", 2024)) == synced[2024]
    assert latest_run(pipeline, history_key("MSFT", 2026)) == synced[2026]

    again, meta = evaluation(pipeline.reverify())
    assert again.passed and meta["symbols_differing"] == 0 and meta["partitions_repaired"] == 0
    assert meta["weekly_partitions_rebuilt"] == 0


def test_a_dry_run_reports_the_correction_and_stores_nothing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.register(["MSFT"])
    assert pipeline.materialize("daily_prices", "2025|MSFT").success
    before = raw(pipeline, "MSFT")
    move_clock(pipeline, monkeypatch, SATURDAY)
    correct(pipeline)
    found, meta = evaluation(pipeline.reverify(dry_run=True))
    assert not found.passed and meta["dry_run"] is True
    assert meta["differing"]["MSFT"]["years_repaired"] == []
    pd.testing.assert_frame_equal(raw(pipeline, "MSFT"), before)
    found, _ = evaluation(pipeline.reverify(dry_run=True))
    assert not found.passed  # nothing was repaired, so it still differs


def test_a_missed_split_is_found_and_fixed(pipeline: Pipeline) -> None:
    pipeline.register(["SPLT"])
    assert pipeline.materialize("daily_prices", "2025|SPLT", "2026|SPLT").success
    before = raw(pipeline, "SPLT")
    # The warehouse lost (or never heard of) the 4:1 split of 2026-06-15.
    with connect(pipeline.database) as con:
        con.execute("DELETE FROM corporate_actions WHERE kind = 'split'")

    found, meta = evaluation(pipeline.reverify())
    assert not found.passed
    splt = meta["differing"]["SPLT"]
    assert splt["first_dates"][0] == str(before.index[0])
    # Every stored day before the split differs (prices 4x, volume /4), none after it.
    assert splt["differing_dates"] == sum(d < date(2026, 6, 15) for d in before.index)
    assert splt["years_repaired"] == [2025, 2026] and splt["remaining_after_repair"] == 0
    assert meta["new_events"] >= 1
    splits = pipeline.query("SELECT ex_date, value FROM corporate_actions WHERE kind = 'split'")
    assert [(pd.Timestamp(d).date(), v) for d, v in splits.values.tolist()] == [
        (date(2026, 6, 15), 4.0)
    ]
    # Raw stays as traded: the re-stored rows are the ones stored before.
    cols = ["open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(raw(pipeline, "SPLT")[cols], before[cols])

    again, _ = evaluation(pipeline.reverify())
    assert again.passed


def test_symbols_without_daily_bars_cost_no_request(pipeline: Pipeline) -> None:
    pipeline.register(["MSFT", "AAPL", "SPLT"])
    assert pipeline.materialize("daily_prices", "2026|MSFT").success
    pipeline.fake.reset_counters()
    found, meta = evaluation(pipeline.reverify())
    assert found.passed
    assert pipeline.price_requests() == 1
    assert meta["symbols_checked"] == 1 and meta["symbols_without_daily_bars"] == 2


def test_a_run_materializing_daily_prices_with_all_its_checks_skips_it(
    pipeline: Pipeline,
) -> None:
    """As the UI's Materialize does: the asset and every check on it, in one run."""
    pipeline.register(["MSFT"])
    result = dg.materialize(
        [daily_prices, daily_prices_reverification],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        partition_key="2026|MSFT",
        raise_on_error=False,
    )
    assert result.success
    assert "daily_prices_reverification" in {e.step_key for e in result.all_events}  # it ran
    assert result.get_asset_check_evaluations() == []
    assert pipeline.price_requests() == 1  # the sync's own request; no re-fetch


def test_a_missed_dividend_is_recorded_from_the_answer_without_storing_bars_again(
    pipeline: Pipeline,
) -> None:
    pipeline.register(["MSFT"])
    assert pipeline.materialize("daily_prices", "2025|MSFT", "2026|MSFT").success
    with connect(pipeline.database) as con:
        con.execute(
            "DELETE FROM corporate_actions WHERE symbol = 'MSFT' AND ex_date = '2026-06-05'"
        )
    found, meta = evaluation(pipeline.reverify())
    assert not found.passed
    msft = meta["differing"]["MSFT"]
    assert msft["by_column"] == {"adj_close": msft["differing_dates"]}  # every day before it
    assert msft["first_dates"][0] == "2025-01-02"
    assert msft["years_repaired"] == [] and msft["remaining_after_repair"] == 0
    assert meta["new_events"] == 1 and meta["partitions_repaired"] == 0
    assert evaluation(pipeline.reverify())[0].passed


def test_an_adjustment_it_cannot_repair_stays_a_warning(pipeline: Pipeline) -> None:
    """Only 2025 stored: the view divides 2026's dividends by an earlier stored close, not
    the close before each ex-date, so adj_close is off; the bars are right, none is stored
    again, and the warning says what remains, every week, until 2026 is synced."""
    pipeline.register(["AAPL"])
    assert pipeline.materialize("daily_prices", "2025|AAPL").success
    found, meta = evaluation(pipeline.reverify())
    aapl = meta["differing"]["AAPL"]
    assert not found.passed and set(aapl["by_column"]) == {"adj_close"}
    assert aapl["years_repaired"] == [] and aapl["remaining_after_repair"] > 0
    assert pipeline.materialize("daily_prices", "2026|AAPL").success
    assert evaluation(pipeline.reverify())[0].passed


def test_the_ui_materializing_a_daily_partition_with_its_checks_skips_it(
    pipeline: Pipeline,
) -> None:
    """The UI launches the global asset job (unpartitioned: the assets' partitions differ)
    with daily_prices and every check on it selected, and the partition as a tag."""
    pipeline.register(["MSFT"])
    defs = dg.Definitions(
        assets=[daily_prices, intraday_prices],
        asset_checks=[daily_prices_reverification],
        resources=pipeline.resources(),
    )
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.partitions_def is None
    subset = job.get_subset(
        asset_selection={daily_prices.key},
        asset_check_selection={dg.AssetCheckKey(daily_prices.key, "matches_yahoo")},
    )
    result = subset.execute_in_process(
        instance=pipeline.instance,
        tags={"dagster/partition": "2026|MSFT"},
        raise_on_error=False,
    )
    assert result.success
    assert "daily_prices_reverification" in {e.step_key for e in result.all_events}
    assert result.get_asset_check_evaluations() == []
    assert pipeline.price_requests() == 1


def test_the_description_names_twenty_symbols_and_counts_the_rest() -> None:
    found = Reverification()
    for i in range(25):
        check = SymbolCheck(f"S{i:02d}", [2025])
        check.comparison = Comparison(3, [Difference(CORRECTED, "close", 1.0, 2.0)])
        found.symbols[check.symbol] = check
    found.symbols["BAD"] = SymbolCheck("BAD", [2025], error="2025: NoDataError")
    text = _description(found)
    assert text.startswith("S00: 1 date(s) differ (2025-03-12); S01:")
    assert "S19:" in text and "S20:" not in text and "BAD" not in text
    assert text.endswith("; and 6 more (metadata: differing, failed)")


def test_an_unregistered_symbol_is_refused_before_any_request(pipeline: Pipeline) -> None:
    pipeline.register(["MSFT"])
    result = pipeline.reverify(symbols=["MSFT", "IBM"])
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "not registered: IBM" in failure.step_failure_data.error.message
    assert pipeline.price_requests() == 0


def test_weekly_bars_the_answer_does_not_cover_are_named_for_a_resync(
    pipeline: Pipeline,
) -> None:
    """Only 2025 has daily bars: the answer ends on 2025-12-31, but weekly 2025 runs to
    2026-01-04 (its last week holds 2026-01-02), so it cannot be rebuilt from it."""
    pipeline.register(["MSFT"])
    assert pipeline.materialize("daily_prices", "2025|MSFT").success
    assert pipeline.materialize("daily_prices", "2025|MSFT", config=WEEKLY).success
    before = weekly(pipeline, "MSFT")
    correct(pipeline)
    pipeline.fake.reset_counters()
    result = pipeline.reverify()
    found, meta = evaluation(result)
    msft = meta["differing"]["MSFT"]
    assert not found.passed and pipeline.price_requests() == 1
    assert msft["years_repaired"] == [2025] and msft["weekly_years_to_resync"] == [2025]
    assert msft["weekly_years_rebuilt"] == [] and meta["weekly_partitions_rebuilt"] == 0
    assert meta["weekly_partitions_to_resync"] == 1
    why = msft["weekly_resync_why"]["2025"]
    assert "2025-01-06 to 2026-01-04" in why and "no daily bars of 2026" in why
    assert "weekly 2025 to sync again" in (found.description or "")
    pd.testing.assert_frame_equal(weekly(pipeline, "MSFT"), before)  # named, not rebuilt
    assert set(materializations(result)) == {("2025|MSFT", "1d")}
    (line,) = [
        e.user_message
        for e in pipeline.instance.all_logs(result.run_id)
        if "weekly bars of 2025" in e.user_message
    ]
    assert "the answer does not cover their weeks (2025: its weeks run" in line
    assert line.endswith(
        "--interval 1wk --symbols MSFT --start-date 2025-01-01 --end-date 2025-12-31 --force"
    )


SPLIT_WEEK = date(2026, 3, 9)  # MSFT splits 2:1 on its Wednesday in these tests
SAME_EVENING = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # after the sync, same sessions


@pytest.mark.fake_yahoo(splits={"MSFT": (SplitEvent(date(2026, 3, 11), 2),)})
def test_a_weekly_bar_with_a_split_inside_is_rebuilt_as_a_weekly_sync_builds_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current year: its weeks reach past now, and the answer covers them up to the
    latest final session. The Monday of the split's week is corrected."""
    pipeline.register(["MSFT"])
    assert pipeline.materialize("daily_prices", "2026|MSFT").success
    assert pipeline.materialize("daily_prices", "2026|MSFT", config=WEEKLY).success
    before = weekly(pipeline, "MSFT")
    move_clock(pipeline, monkeypatch, SAME_EVENING)
    pipeline.fake.config.bad_prints = {"MSFT": (SPLIT_WEEK,)}
    pipeline.fake.config.bad_print_factor = FACTOR
    pipeline.fake.reset_counters()
    result = pipeline.reverify()
    found, meta = evaluation(result)
    assert not found.passed
    assert pipeline.price_requests() == 1  # no request for the weekly rows
    msft = meta["differing"]["MSFT"]
    assert msft["first_dates"] == [str(SPLIT_WEEK)] and msft["differing_dates"] == 1
    assert msft["years_repaired"] == [2026] and msft["weekly_years_rebuilt"] == [2026]
    assert msft["weekly_years_to_resync"] == []

    after, weeks = raw(pipeline, "MSFT"), weekly(pipeline, "MSFT")
    days = after.loc[[d for d in after.index if week_of(d) == SPLIT_WEEK]]
    # As traded: Monday and Tuesday on the pre-split basis, put on the week's last one.
    expected = aggregate(days, [2.0, 2.0, 1.0, 1.0, 1.0])
    for column, value in expected.items():
        assert weeks.loc[SPLIT_WEEK, column] == pytest.approx(value, abs=1e-6), column
    assert weeks.loc[SPLIT_WEEK, "open"] != before.loc[SPLIT_WEEK, "open"]
    assert weeks.loc[SPLIT_WEEK, "stock_splits"] == 2.0
    cols = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits"]
    others = [d for d in weeks.index if d != SPLIT_WEEK]
    assert list(weeks.index) == list(before.index) and others
    pd.testing.assert_frame_equal(weeks.loc[others, cols], before.loc[others, cols])
    assert (weeks["fetched_at"] == pd.Timestamp(SAME_EVENING)).all()
    logged = [e.user_message for e in pipeline.instance.all_logs(result.run_id)]
    assert f"MSFT: weekly bars rebuilt from the same answer: year(s) 2026, {len(weeks)} row(s)" in (
        logged
    )
    assert not [line for line in logged if "sync them again" in line]
    weekly_event = materializations(result)[("2026|MSFT", "1wk")]
    assert weekly_event["final"] is False  # its last week ends on 2027-01-03
    assert weekly_event["last_bar"] == "2026-11-23"

    # Exactly the rows a weekly sync stores from Yahoo's answer today.
    assert pipeline.materialize("daily_prices", "2026|MSFT", config=WEEKLY).success
    synced = weekly(pipeline, "MSFT")
    pd.testing.assert_frame_equal(
        weeks.drop(columns="fetched_at"), synced.drop(columns="fetched_at")
    )
