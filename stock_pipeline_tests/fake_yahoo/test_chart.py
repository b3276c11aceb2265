"""The chart endpoint's answers: Yahoo's early-close bar, the appended latest bar, shapes, 404s."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    expected_bar_starts,
    session_close,
    session_open,
)
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW, load_yahoo_recording
from stock_pipeline_tests.support.fake_yahoo_http import (
    BLACK_FRIDAY_EVENING,
    chart,
    day_chart,
    frame,
    get,
    ny,
)


@pytest.mark.parametrize(
    ("day", "now"),
    [
        (date(2026, 11, 27), BLACK_FRIDAY_EVENING),
        (date(2025, 7, 3), datetime(2025, 7, 10, tzinfo=UTC)),
        (date(2025, 12, 24), datetime(2025, 12, 31, tzinfo=UTC)),
    ],
)
def test_early_close_has_42_bars_plus_yahoos_zero_volume_1300_bar(
    fake_yahoo: FakeYahoo, day: date, now: datetime
) -> None:
    fake_yahoo.set_now(now)
    close = pd.Timestamp(session_close(day))
    df = frame(day_chart(fake_yahoo, "MSFT", day, "5m"))
    df = df[df.index <= close]  # without the "latest" bar appended after a past period2
    assert close.tz_convert(NEW_YORK).hour == 13
    assert list(df.index[:-1]) == list(expected_bar_starts(day, "5m"))
    assert len(df) == 43
    extra = df.iloc[-1]
    assert df.index[-1] == close
    assert extra["volume"] == 0
    assert extra["open"] == extra["high"] == extra["low"] == extra["close"] == df["close"].iloc[-2]


def test_appended_latest_bar_after_a_past_period2(fake_yahoo: FakeYahoo) -> None:
    now = DEFAULT_TEST_NOW  # Wednesday 16:30 New York
    result = day_chart(fake_yahoo, "AAPL", date(2026, 11, 24), "5m")
    df = frame(result)
    assert len(df) == 79
    last = df.iloc[-1]
    assert df.index[-1] == pd.Timestamp(session_close(date(2026, 11, 25)))
    assert df.index[-1].timestamp() > ny(date(2026, 11, 25))
    assert last["volume"] == 0 and last["open"] == last["high"] == last["low"] == last["close"]
    assert last["close"] == pytest.approx(result["meta"]["regularMarketPrice"], abs=1e-3)
    periods = [p[0]["start"] for p in result["meta"]["tradingPeriods"]]
    assert int(session_open(date(2026, 11, 25)).timestamp()) in periods
    assert (
        result["meta"]["regularMarketTime"]
        == int(session_close(date(2026, 11, 25)).timestamp()) + 1
    )
    # A window reaching past now gets no appended bar.
    current = frame(
        chart(
            fake_yahoo,
            "AAPL",
            period1=ny(date(2026, 11, 25)),
            period2=int(now.timestamp()) + 3600,
            interval="5m",
        )
    )
    assert len(current) == 78


def test_answer_shapes_match_the_recordings(fake_yahoo: FakeYahoo) -> None:
    recorded_1m = load_yahoo_recording("chart_AAPL_1m_2024-10-02_regular")["chart"]["result"][0]
    ours = day_chart(fake_yahoo, "AAPL", date(2026, 11, 24), "1m")
    assert set(ours["meta"]) == set(recorded_1m["meta"])
    assert set(ours) == set(recorded_1m) and set(ours["indicators"]) == {"quote"}
    probe = load_yahoo_recording("chart_AAPL_1d_range1d_tzprobe_2025-02-18")["chart"]["result"][0]
    ours = chart(fake_yahoo, "AAPL", range="1d", interval="1d")
    assert set(ours["meta"]) == set(probe["meta"]) and set(ours) == set(probe)
    assert ours["meta"]["exchangeTimezoneName"] == "America/New_York"
    assert ours["timestamp"] == [int(session_open(date(2026, 11, 25)).timestamp())]
    weekend = load_yahoo_recording("chart_AAPL_1m_2025-02-01_weekend_empty")["chart"]["result"][0]
    ours = day_chart(fake_yahoo, "AAPL", date(2026, 11, 22), "1m")
    assert set(ours) == set(weekend) and set(ours["meta"]) == set(weekend["meta"])
    prepost = load_yahoo_recording("chart_TSLA_30m_2021-11-22_prepost")["chart"]["result"][0]
    ours = chart(fake_yahoo, "TSLA", range="1d", interval="30m", includePrePost="true")
    periods = ours["meta"]["tradingPeriods"]
    assert set(periods) == set(prepost["meta"]["tradingPeriods"]) == {"pre", "regular", "post"}
    assert set(periods["pre"][0][0]) == set(prepost["meta"]["tradingPeriods"]["pre"][0][0])


@pytest.mark.fake_yahoo(unknown_symbols=frozenset({"DELISTED"}))
@pytest.mark.parametrize("symbol", ["ZZNOTREAL", "DELISTED"])
def test_unknown_symbols_answer_like_yahoo(fake_yahoo: FakeYahoo, symbol: str) -> None:
    expected = (
        Path(__file__).parents[1] / "fixtures/yahoo/chart_error_404_not_found.RECONSTRUCTED.json"
    )
    for params in (
        {"range": "1d", "interval": "1d"},
        {"period1": ny(date(2026, 11, 20)), "period2": ny(date(2026, 11, 21)), "interval": "5m"},
    ):
        response = get(fake_yahoo, f"/v8/finance/chart/{symbol}", **params)
        assert response.status_code == 404
        assert response.content == expected.read_bytes().strip()
    summary = get(fake_yahoo, f"/v10/finance/quoteSummary/{symbol}", modules="quoteType")
    assert summary.status_code == 404
    assert summary.json()["quoteSummary"]["error"]["code"] == "Not Found"
    quote = get(fake_yahoo, "/v7/finance/quote", symbols=f"AAPL,{symbol}").json()
    assert [q["symbol"] for q in quote["quoteResponse"]["result"]] == ["AAPL"]
