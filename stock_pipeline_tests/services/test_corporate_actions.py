"""Corporate actions through the real asset and the fake Yahoo, with the clock moved through
a split and a dividend between two refreshes."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from stock_pipeline.fake_yahoo import SplitEvent
from stock_pipeline.services.run_report import read_run_report
from stock_pipeline_tests.support.pipeline import Pipeline

BEFORE = datetime(2026, 6, 12, 21, 0, tzinfo=UTC)  # Friday after the close
AFTER = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # after the early close
SPLITS = {
    "SPLT": (SplitEvent(date(2026, 6, 15), 4),),
    "MSFT": (SplitEvent(date(2026, 8, 3), 2),),
}


def move_clock(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    pipeline.fake.config.now = instant
    monkeypatch.setenv("STOCK_PIPELINE_NOW", instant.isoformat())


def chart_requests(pipeline: Pipeline) -> int:
    return sum(1 for r in pipeline.fake.log if r.kind == "chart")


def actions(pipeline: Pipeline) -> pd.DataFrame:
    return pipeline.query(
        "SELECT symbol, ex_date, kind, value, first_seen FROM corporate_actions "
        "ORDER BY symbol, ex_date, kind"
    ).assign(ex_date=lambda f: pd.to_datetime(f["ex_date"]).dt.date)


@pytest.mark.fake_yahoo(splits=SPLITS)
def test_new_events_appear_after_a_refresh_and_old_ones_keep_their_values(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.register(["SPLT", "MSFT"])
    move_clock(pipeline, monkeypatch, BEFORE)
    assert pipeline.materialize("corporate_actions").success
    assert chart_requests(pipeline) == 2  # one per symbol
    first = actions(pipeline)
    assert first.query("kind == 'split'").empty  # neither split has happened yet
    msft = first.query("symbol == 'MSFT' and kind == 'dividend'").set_index("ex_date")
    assert date(2026, 6, 5) in msft.index and (msft["first_seen"] == pd.Timestamp(BEFORE)).all()

    move_clock(pipeline, monkeypatch, AFTER)
    pipeline.fake.reset_counters()
    assert pipeline.materialize("corporate_actions").success
    assert chart_requests(pipeline) == 2
    second = actions(pipeline)
    splits = second.query("kind == 'split'")
    assert splits[["symbol", "ex_date", "value"]].values.tolist() == [
        ["MSFT", date(2026, 8, 3), 2.0],
        ["SPLT", date(2026, 6, 15), 4.0],
    ]
    assert (splits["first_seen"] == pd.Timestamp(AFTER)).all()
    again = second.query("symbol == 'MSFT' and kind == 'dividend'").set_index("ex_date")
    # Yahoo now sends the June dividend halved (2:1 split in August); stored as paid.
    assert again.loc[date(2026, 6, 5), "value"] == pytest.approx(
        msft.loc[date(2026, 6, 5), "value"], abs=1e-6
    )
    assert (again.loc[msft.index, "first_seen"] == pd.Timestamp(BEFORE)).all()
    september = again.loc[date(2026, 9, 8)]
    assert september["first_seen"] == pd.Timestamp(AFTER) and september["value"] > 0
    assert len(second) == len(first) + 3  # two splits and the September dividend


def test_a_daily_sync_knows_every_split_first_at_one_request_per_symbol_and_day(
    pipeline: Pipeline,
) -> None:
    pipeline.register(["SPLT", "MSFT"])
    run = pipeline.materialize("daily_prices", "2025|SPLT", "2025|MSFT")
    assert run.success
    kinds = [r.query.get("interval") for r in pipeline.fake.log if r.kind == "chart"]
    assert kinds.count("1mo") == 2  # the actions of both symbols, once
    # Metered apart: the run's price requests are its price fetches, one per symbol.
    report = read_run_report(pipeline.instance, run.run_id)
    assert report.price_requests == 2 and report.requests >= 4
    stored = actions(pipeline)
    # The 2025 answer does not list SPLT's 2026 split; the refresh before it did.
    assert stored.query("kind == 'split'")["symbol"].tolist() == ["SPLT"]
    assert not stored.query("symbol == 'MSFT' and kind == 'dividend'").empty
    pipeline.fake.reset_counters()
    assert pipeline.materialize("daily_prices", "2026|SPLT", "2026|MSFT").success
    kinds = [r.query.get("interval") for r in pipeline.fake.log if r.kind == "chart"]
    assert "1mo" not in kinds  # checked since today's open: no second request
