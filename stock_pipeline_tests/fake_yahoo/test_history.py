"""Corporate actions: splits and dividends in events, history adjusted."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from stock_pipeline.domain.trading_calendar import (
    session_open,
)
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline_tests.support.fake_yahoo_http import (
    chart,
    frame,
    ny,
)


def test_splits_are_in_events_and_history_is_adjusted(fake_yahoo: FakeYahoo) -> None:
    window = {
        "period1": ny(date(2026, 6, 1)),
        "period2": ny(date(2026, 7, 1)),
        "interval": "1d",
        "events": "div,splits,capitalGains",
    }
    result = chart(fake_yahoo, "SPLT", **window)
    split_ts = int(session_open(date(2026, 6, 15)).timestamp())
    assert result["events"]["splits"] == {
        str(split_ts): {"date": split_ts, "numerator": 4, "denominator": 1, "splitRatio": "4:1"}
    }
    closes = frame(result)["close"]
    day_before = closes[closes.index < pd.Timestamp(split_ts, unit="s", tz="UTC")].iloc[-1]
    assert 0.85 < closes[pd.Timestamp(split_ts, unit="s", tz="UTC")] / day_before < 1.15
    # Before the split is known, the same days trade at four times the price.
    fake_yahoo.set_now(datetime(2026, 6, 12, 21, 0, tzinfo=UTC))
    before = chart(fake_yahoo, "SPLT", **window)
    assert "events" not in before
    old = frame(before)
    assert old["close"].iloc[0] == pytest.approx(4 * closes.iloc[0], rel=1e-4)
    assert old["volume"].iloc[0] == pytest.approx(frame(result)["volume"].iloc[0] / 4, abs=4)


def test_dividends_are_in_events_and_lower_adjclose(fake_yahoo: FakeYahoo) -> None:
    result = chart(
        fake_yahoo,
        "MSFT",
        period1=ny(date(2025, 11, 1)),
        period2=ny(date(2026, 11, 1)),
        interval="1d",
        events="div,splits,capitalGains",
    )
    dividends = result["events"]["dividends"]
    assert len(dividends) == 4
    for key, event in dividends.items():
        assert (
            set(event) == {"amount", "date"} and int(key) == event["date"] and event["amount"] > 0
        )
    df = frame(result)
    last_ex = pd.Timestamp(max(int(k) for k in dividends), unit="s", tz="UTC")
    assert (df.loc[df.index < last_ex, "adjclose"] < df.loc[df.index < last_ex, "close"]).all()
    assert (df.loc[df.index >= last_ex, "adjclose"] == df.loc[df.index >= last_ex, "close"]).all()
    no_events = chart(
        fake_yahoo,
        "MSFT",
        period1=ny(date(2025, 11, 1)),
        period2=ny(date(2026, 11, 1)),
        interval="1d",
    )
    assert "events" not in no_events


def test_a_bad_print_set_while_serving_changes_one_past_daily_bar(
    fake_yahoo: FakeYahoo,
) -> None:
    """As Yahoo correcting a past value after a sync: the re-verification tests rely on it."""
    window = {"period1": ny(date(2025, 3, 1)), "period2": ny(date(2025, 4, 1)), "interval": "1d"}
    before = frame(chart(fake_yahoo, "MSFT", **window))
    fake_yahoo.config.bad_prints = {"MSFT": (date(2025, 3, 12),)}
    fake_yahoo.config.bad_print_factor = 1.02
    after = frame(chart(fake_yahoo, "MSFT", **window))
    day = before.index.tz_convert("America/New_York").date == date(2025, 3, 12)
    for column in ("open", "high", "low", "close"):
        assert after.loc[day, column].iloc[0] == pytest.approx(
            before.loc[day, column].iloc[0] * 1.02, rel=1e-6
        )
        pd.testing.assert_series_equal(after.loc[~day, column], before.loc[~day, column])
    assert (after["volume"] == before["volume"]).all()
    fake_yahoo.config.bad_prints = {}
    pd.testing.assert_frame_equal(frame(chart(fake_yahoo, "MSFT", **window)), before)
