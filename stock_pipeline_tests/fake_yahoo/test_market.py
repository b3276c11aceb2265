"""Synthetic market data: one minute path per (symbol, session), fast to generate."""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
import pytest

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
)
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW
from stock_pipeline_tests.support.fake_yahoo_http import (
    BLACK_FRIDAY_EVENING,
    chart,
    ny,
    regular,
)


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING)
def test_same_bar_same_values_whichever_request_asks(fake_yahoo: FakeYahoo) -> None:
    a = regular(
        chart(
            fake_yahoo,
            "TSLA",
            period1=ny(date(2026, 11, 16)),
            period2=ny(date(2026, 11, 20)),
            interval="5m",
        )
    )
    b = regular(
        chart(
            fake_yahoo,
            "TSLA",
            period1=ny(date(2026, 11, 18)),
            period2=ny(date(2026, 11, 25)),
            interval="5m",
        )
    )
    c = regular(chart(fake_yahoo, "TSLA", range="1mo", interval="5m"))
    overlap = a.index.intersection(b.index)
    assert len(overlap) == 2 * 78
    pd.testing.assert_frame_equal(a.loc[overlap], b.loc[overlap])
    pd.testing.assert_frame_equal(a.loc[overlap], c.loc[overlap], check_dtype=False)
    fifteen = regular(
        chart(
            fake_yahoo,
            "TSLA",
            period1=ny(date(2026, 11, 18)),
            period2=ny(date(2026, 11, 19)),
            interval="15m",
        )
    ).dropna()
    five = a[a.index.tz_convert(NEW_YORK).date == date(2026, 11, 18)]
    for ts, row in fifteen.iterrows():
        part = five.loc[ts : ts + pd.Timedelta(minutes=10)]
        if part.isna().any().any():
            continue  # an all-null 5m bar hides part of the 15m bar
        assert row["high"] == part["high"].max() and row["low"] == part["low"].min()
        assert row["open"] == part["open"].iloc[0] and row["close"] == part["close"].iloc[-1]


def test_generation_speed(fake_yahoo: FakeYahoo) -> None:
    """60 sessions of 5m bars for one symbol must stay far below a millisecond per day."""
    market = fake_yahoo.market
    now = DEFAULT_TEST_NOW.timestamp()
    started = time.perf_counter()
    for i in range(20):
        bars = market.intraday(f"SPEED{i}", now - 59 * 86_400, now, 5, now)
        assert len(bars) > 40 * 78
    per_day = (time.perf_counter() - started) / (20 * 41)
    assert per_day < 0.001
