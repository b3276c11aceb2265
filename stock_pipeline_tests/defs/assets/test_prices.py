from datetime import UTC, date, datetime

import dagster as dg
import pytest

from stock_pipeline.defs.resources import YahooFinanceResource
from stock_pipeline.domain.run_keys import INTRADAY_OP, PARTITION_TAG, price_run_config
from stock_pipeline.domain.trading_calendar import expected_bar_count, sessions_between
from stock_pipeline_tests.support.pipeline import ASSETS, Pipeline, failure_metadata

# The suite's clock: 2026-11-25 16:30 New York, after the close.
LAST = date(2026, 11, 25)


TWENTY_DAYS = sessions_between(date(2026, 10, 29), LAST)


def test_twenty_day_backfill_of_three_symbols_costs_three_price_requests(
    pipeline: Pipeline,
) -> None:
    assert len(TWENTY_DAYS) == 20
    pipeline.register(["AAPL", "MSFT", "IBM"])
    result = pipeline.materialize("intraday_prices", "2026-10-29|AAPL", "2026-11-25|IBM")
    assert result.success
    assert pipeline.price_requests() <= 3
    assert len(pipeline.materialized("intraday_prices")) == 60
    counts = pipeline.query(
        "SELECT symbol, session_date, count(*) AS n FROM intraday_prices GROUP BY ALL"
    )
    assert len(counts) == 60
    # The fake drops about one bar in 500 as all-null, like Yahoo; never more than a few.
    assert counts["n"].between(75, 78).all()


def test_one_bad_symbol_in_ten_leaves_nine_materialized(pipeline: Pipeline) -> None:
    symbols = ["AAPL", "MSFT", "IBM", "NVDA", "ZZBOGUS", "AMZN", "META", "GOOG", "TSLA", "KO"]
    pipeline.register(symbols)
    result = pipeline.materialize("intraday_prices", "2026-11-25|AAPL", "2026-11-25|KO")
    assert not result.success
    assert pipeline.materialized("intraday_prices") == {
        f"2026-11-25|{s}" for s in symbols if s != "ZZBOGUS"
    }
    failed = failure_metadata(result)["failed_partitions"]
    assert list(failed) == ["2026-11-25|ZZBOGUS"]
    assert "SymbolNotFoundError" in failed["2026-11-25|ZZBOGUS"]
    stored = pipeline.query("SELECT DISTINCT symbol FROM intraday_prices")
    assert len(stored) == 9 and "ZZBOGUS" not in set(stored["symbol"])


@pytest.mark.fake_yahoo(null_bar_every=0)
def test_bar_counts_match_the_calendar_on_a_full_day(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    assert pipeline.materialize("intraday_prices", "2026-11-24|AAPL").success
    n = pipeline.query("SELECT count(*) AS n FROM intraday_prices")["n"][0]
    assert n == expected_bar_count(date(2026, 11, 24), "5m") == 78


@pytest.mark.fake_yahoo(null_bar_every=0, now=datetime(2026, 11, 27, 20, tzinfo=UTC))
def test_bar_counts_match_the_calendar_on_an_early_close(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_NOW", "2026-11-27T20:00:00+00:00")
    pipeline.register(["AAPL"])
    assert pipeline.materialize("intraday_prices", "2026-11-27|AAPL").success
    for interval, expected in (("5m", 42), ("60m", 4)):
        if interval != "5m":
            assert pipeline.materialize(
                "intraday_prices", "2026-11-27|AAPL", config={"interval": interval}
            ).success
        got = pipeline.query(
            "SELECT count(*) AS n, max(ts) AS last FROM intraday_prices WHERE interval = ?",
            [interval],
        )
        assert got["n"][0] == expected
        # Nothing at or after the 13:00 close (Yahoo's extra zero-volume bar is dropped).
        assert got["last"][0].tz_convert("America/New_York").hour < 13


def test_each_interval_is_stored_and_reported_apart(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    assert pipeline.materialize("intraday_prices", "2026-11-24|AAPL").success
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", config={"interval": "1h"})
    assert result.success
    got = pipeline.query(
        "SELECT interval, count(*) AS n FROM intraday_prices GROUP BY ALL ORDER BY ALL"
    )
    assert dict(zip(got["interval"], got["n"], strict=True))["60m"] == 7
    assert got["n"][got["interval"] == "5m"].iloc[0] >= 76
    event = pipeline.instance.get_latest_materialization_event(dg.AssetKey("intraday_prices"))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["interval"].value == "60m"


def test_a_range_beyond_the_lookback_is_refused_before_any_request(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = pipeline.materialize("intraday_prices", "2026-10-15|AAPL", config={"interval": "1m"})
    assert not result.success
    reason = failure_metadata(result)["failed_partitions"]["2026-10-15|AAPL"]
    assert "LookbackExceededError" in reason and "30 days" in reason
    assert pipeline.price_requests() == 0


def test_bad_interval_fails_the_run_with_the_choices(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", config={"interval": "7m"})
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None and "use one of" in str(failure.description)


def test_daily_history_keeps_raw_prices_splits_and_dividends(pipeline: Pipeline) -> None:
    pipeline.register(["SPLT"])
    assert pipeline.materialize("daily_prices", "2026|SPLT").success
    rows = pipeline.query("SELECT * FROM daily_prices ORDER BY date")
    assert rows["date"].min().year == 2026 and (rows["year"] == 2026).all()
    split = rows[rows["stock_splits"] > 0]
    assert list(split["stock_splits"]) == [4.0]
    assert split["date"].iloc[0].date() == date(2026, 6, 15)
    assert (rows["adj_close"] > 0).all() and rows["volume"].ge(0).all()
    assert pipeline.price_requests() == 1


def test_the_run_config_builder_chooses_the_interval_stored(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = dg.materialize(
        [ASSETS[INTRADAY_OP]],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags={PARTITION_TAG: "2026-11-24|AAPL"},
        run_config=price_run_config(INTRADAY_OP, "15m"),
    )
    assert result.success
    stored = pipeline.query("SELECT interval, count(*) AS n FROM intraday_prices GROUP BY 1")
    assert stored.to_dict("records") == [{"interval": "15m", "n": 26}]


def test_the_run_records_the_yahoo_rate_it_ended_at(pipeline: Pipeline) -> None:
    """The rate adapts; the run's metadata says where it got to (a handful of requests
    earns no climb: it is still the start)."""
    pipeline.register(["AAPL"])
    yahoo = YahooFinanceResource(
        base_url=pipeline.fake.url,
        requests_per_second=200.0,
        max_requests_per_second=400.0,
        backoff_seconds=0.01,
    )
    result = dg.materialize(
        [ASSETS["intraday_prices"]],
        instance=pipeline.instance,
        resources={**pipeline.resources(), "yahoo": yahoo},
        tags={"dagster/partition": "2026-11-25|AAPL"},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("intraday_prices")
    assert materialization.metadata["run_yahoo_rate_reached"].value == 200.0
