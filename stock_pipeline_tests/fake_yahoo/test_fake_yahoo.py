"""The fake Yahoo server, over real HTTP: calendar, data consistency, quirks, errors, limits.

The last section runs yfinance's own ``Ticker.history`` / ``.info`` against the fake
through the project's URL-rewriting session, without patching yfinance.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from bs4 import BeautifulSoup

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    expected_bar_starts,
    session_close,
    session_open,
    sessions_between,
)
from stock_pipeline.fake_yahoo import FakeYahoo, serve
from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW, load_yahoo_recording

# Friday 2026-11-27 17:00 New York: the early close (13:00) of the day after Thanksgiving.
BLACK_FRIDAY_EVENING = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
HTTP = requests.Session()


def ny(day: date, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).timestamp())


def get(fake: FakeYahoo, path: str, **params: Any) -> requests.Response:
    return HTTP.get(fake.url + path, params=params, timeout=30)


def chart(fake: FakeYahoo, symbol: str, **params: Any) -> dict[str, Any]:
    response = get(fake, f"/v8/finance/chart/{symbol}", **params)
    assert response.status_code == 200, response.text[:300]
    result: dict[str, Any] = response.json()["chart"]["result"][0]
    return result


def day_chart(
    fake: FakeYahoo, symbol: str, day: date, interval: str, **extra: Any
) -> dict[str, Any]:
    """One New York calendar day of bars, asked the way yfinance asks."""
    return chart(
        fake,
        symbol,
        period1=ny(day),
        period2=ny(day + timedelta(days=1)),
        interval=interval,
        includePrePost="False",
        events="div,splits,capitalGains",
        **extra,
    )


def frame(result: dict[str, Any]) -> pd.DataFrame:
    quote = result["indicators"]["quote"][0]
    df = pd.DataFrame(quote, index=pd.to_datetime(result.get("timestamp", []), unit="s", utc=True))
    if "adjclose" in result["indicators"]:
        df["adjclose"] = result["indicators"]["adjclose"][0]["adjclose"]
    return df


def regular(result: dict[str, Any]) -> pd.DataFrame:
    """Bars inside the listed regular trading periods (what yfinance keeps)."""
    df = frame(result)
    periods = [p[0] for p in result["meta"]["tradingPeriods"]]
    inside = [any(p["start"] <= ts.timestamp() < p["end"] for p in periods) for ts in df.index]
    return df[inside]


# Calendar ---------------------------------------------------------------------------------


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING)
def test_full_day_has_78_five_minute_bars_at_the_calendar_times(fake_yahoo: FakeYahoo) -> None:
    result = day_chart(fake_yahoo, "AAPL", date(2026, 11, 25), "5m")
    df = regular(result)  # drops the "latest" bar Yahoo appends after a past period2
    assert list(df.index) == list(expected_bar_starts(date(2026, 11, 25), "5m"))
    assert len(df) == 78
    assert df.index[0] == pd.Timestamp("2026-11-25 14:30", tz="UTC")


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


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING)
@pytest.mark.parametrize("day", [date(2026, 11, 26), date(2026, 11, 21), date(2026, 11, 22)])
def test_no_bars_on_thanksgiving_or_weekends(fake_yahoo: FakeYahoo, day: date) -> None:
    result = day_chart(fake_yahoo, "AAPL", day, "5m")
    assert "timestamp" not in result
    assert result["indicators"] == {"quote": [{}]}
    daily = day_chart(fake_yahoo, "AAPL", day, "1d")
    assert "timestamp" not in daily


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING)
@pytest.mark.parametrize("interval", ["1m", "2m", "5m", "15m", "30m", "60m", "90m"])
@pytest.mark.parametrize("day", [date(2026, 11, 24), date(2026, 11, 27)])
def test_every_interval_matches_the_calendar(
    fake_yahoo: FakeYahoo, interval: str, day: date
) -> None:
    df = regular(day_chart(fake_yahoo, "KO", day, interval))
    assert list(df.index) == list(expected_bar_starts(day, interval))


@pytest.mark.parametrize(
    ("before", "after", "now"),
    [
        (date(2026, 3, 6), date(2026, 3, 9), datetime(2026, 3, 20, tzinfo=UTC)),
        (date(2026, 10, 30), date(2026, 11, 2), BLACK_FRIDAY_EVENING),
    ],
)
def test_bar_times_shift_by_an_hour_in_utc_across_dst(
    fake_yahoo: FakeYahoo, before: date, after: date, now: datetime
) -> None:
    fake_yahoo.set_now(now)
    first = [frame(day_chart(fake_yahoo, "AAPL", d, "5m")).index[0] for d in (before, after)]
    hours = [ts.hour + ts.minute / 60 for ts in first]
    assert abs(hours[0] - hours[1]) == 1.0
    assert {ts.tz_convert(NEW_YORK).strftime("%H:%M") for ts in first} == {"09:30"}


# Consistency ------------------------------------------------------------------------------


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING, null_bar_every=0)
def test_daily_bar_is_the_aggregate_of_its_intraday_bars(fake_yahoo: FakeYahoo) -> None:
    start, end = date(2026, 11, 16), date(2026, 11, 28)
    p1, p2 = ny(start), ny(end)
    daily = frame(chart(fake_yahoo, "NVDA", period1=p1, period2=p2, interval="1d"))
    intraday = regular(chart(fake_yahoo, "NVDA", period1=p1, period2=p2, interval="5m"))
    groups = intraday.groupby(intraday.index.tz_convert(NEW_YORK).date)
    expected = pd.DataFrame(
        {
            "open": groups["open"].first(),
            "high": groups["high"].max(),
            "low": groups["low"].min(),
            "close": groups["close"].last(),
            "volume": groups["volume"].sum(),
        }
    )
    assert len(daily) == len(expected) == 9
    for ts, row in daily.iterrows():
        assert ts == pd.Timestamp(session_open(ts.tz_convert(NEW_YORK).date()))
        want = expected.loc[ts.tz_convert(NEW_YORK).date()]
        assert row[["open", "high", "low", "close", "volume"]].tolist() == want.tolist()
        assert (
            row["low"]
            <= min(row["open"], row["close"])
            <= max(row["open"], row["close"])
            <= row["high"]
        )


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING, null_bar_every=0)
def test_weekly_bars_are_mondays_and_aggregate_their_sessions(fake_yahoo: FakeYahoo) -> None:
    p1, p2 = ny(date(2026, 1, 5)), ny(date(2026, 3, 2))
    weekly = frame(chart(fake_yahoo, "IBM", period1=p1, period2=p2, interval="1wk"))
    daily = frame(chart(fake_yahoo, "IBM", period1=p1, period2=p2, interval="1d"))
    local = weekly.index.tz_convert(NEW_YORK)
    assert set(local.weekday) == {0} and set(local.strftime("%H:%M")) == {"09:30"}
    # Martin Luther King Day and Presidents' Day are holidays; the weeks are still Mondays.
    assert {date(2026, 1, 19), date(2026, 2, 16)} <= set(local.date)
    monday = daily.index.tz_convert(NEW_YORK).normalize() - pd.to_timedelta(
        daily.index.tz_convert(NEW_YORK).weekday, unit="D"
    )
    groups = daily.groupby(monday.date)
    for ts, row in weekly.iterrows():
        week = ts.tz_convert(NEW_YORK).date()
        assert row["open"] == groups["open"].first()[week]
        assert row["high"] == groups["high"].max()[week]
        assert row["low"] == groups["low"].min()[week]
        assert row["close"] == groups["close"].last()[week]
        assert row["volume"] == groups["volume"].sum()[week]
    monthly = frame(chart(fake_yahoo, "IBM", period1=p1, period2=p2, interval="1mo"))
    assert [ts.tz_convert(NEW_YORK).date() for ts in monthly.index] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    january = daily[daily.index.tz_convert(NEW_YORK).month == 1]
    assert monthly["high"].iloc[0] == january["high"].max()


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


def test_values_do_not_depend_on_the_process(fake_yahoo: FakeYahoo) -> None:
    """Seeds come from a stable hash, not ``hash()``: another process gets the same bars."""
    params = {
        "period1": ny(date(2026, 11, 20)),
        "period2": ny(date(2026, 11, 21)),
        "interval": "5m",
    }
    here = get(fake_yahoo, "/v8/finance/chart/XOM", **params).content
    code = (
        "import requests,sys\n"
        "from stock_pipeline.fake_yahoo import FakeYahoo, FakeYahooConfig\n"
        "from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW\n"
        "with FakeYahoo(FakeYahooConfig(now=DEFAULT_TEST_NOW)) as f:\n"
        f"    r = requests.get(f.url + '/v8/finance/chart/XOM', params={params!r})\n"
        "    sys.stdout.buffer.write(r.content)\n"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert there == here


@pytest.mark.fake_yahoo(now=datetime(2026, 11, 25, 17, 2, 30, tzinfo=UTC), null_bar_every=0)
def test_current_session_is_partial_and_grows(fake_yahoo: FakeYahoo) -> None:
    now = fake_yahoo.config.now
    assert now is not None
    today = date(2026, 11, 25)
    early = regular(day_chart(fake_yahoo, "AMZN", today, "5m"))
    assert early.index[-1] == pd.Timestamp("2026-11-25 17:00", tz="UTC")  # 12:00 EST, partial
    assert (early.index <= now).all()
    quote = get(fake_yahoo, "/v7/finance/quote", symbols="AMZN").json()["quoteResponse"]["result"][
        0
    ]
    assert quote["marketState"] == "REGULAR"
    assert quote["regularMarketPrice"] == pytest.approx(early["close"].iloc[-1], abs=1e-3)
    daily = frame(day_chart(fake_yahoo, "AMZN", today, "1d"))
    assert daily["high"].iloc[0] == early["high"].max()
    assert daily["volume"].iloc[0] == early["volume"].sum()
    fake_yahoo.set_now(now + timedelta(minutes=30))
    later = regular(day_chart(fake_yahoo, "AMZN", today, "5m"))
    assert len(later) == len(early) + 6
    done = early.index[:-1]  # bars that had closed do not change
    pd.testing.assert_frame_equal(early.loc[done], later.loc[done])


# Yahoo's quirks ---------------------------------------------------------------------------


def test_all_null_bars_are_rare_and_complete(fake_yahoo: FakeYahoo) -> None:
    nulls = total = 0
    for symbol in ("AAPL", "MSFT", "KO", "XOM", "IBM"):
        df = frame(chart(fake_yahoo, symbol, range="1mo", interval="5m"))
        empty = df[["open", "high", "low", "close", "volume"]].isna()
        assert (empty.all(axis=1) == empty.any(axis=1)).all()  # all five null, or none
        nulls += int(empty.all(axis=1).sum())
        total += len(df)
    assert 1 <= nulls <= total / 150
    raw = get(fake_yahoo, "/v8/finance/chart/AAPL", range="1mo", interval="5m").text
    assert "null" in raw or nulls > 0


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


# Errors -----------------------------------------------------------------------------------


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


def test_scripted_failures(fake_yahoo: FakeYahoo) -> None:
    data = {"period1": ny(date(2026, 11, 20)), "period2": ny(date(2026, 11, 21)), "interval": "5m"}
    limited = get(fake_yahoo, "/v8/finance/chart/ZZRATELIMIT", **data)
    assert (limited.status_code, limited.text) == (429, "Too Many Requests")
    assert get(fake_yahoo, "/v10/finance/quoteSummary/ZZRATELIMIT").status_code == 429
    down = get(fake_yahoo, "/v8/finance/chart/ZZSERVERERROR", **data)
    assert down.status_code == 500 and "Will be right back" in down.text
    bad = get(fake_yahoo, "/v8/finance/chart/ZZBADJSON", **data)
    assert bad.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.text)
    assert (
        chart(fake_yahoo, "ZZBADJSON", range="1d", interval="1d")["meta"]["symbol"] == "ZZBADJSON"
    )
    empty = chart(fake_yahoo, "ZZEMPTY", **data)
    assert "timestamp" not in empty and empty["indicators"] == {"quote": [{}]}
    assert "timestamp" in chart(fake_yahoo, "ZZEMPTY", range="1d", interval="1d")
    assert fake_yahoo.rate_limited == 2


@pytest.mark.fake_yahoo(flaky_failures=2)
def test_flaky_symbol_fails_then_recovers(fake_yahoo: FakeYahoo) -> None:
    data = {"period1": ny(date(2026, 11, 20)), "period2": ny(date(2026, 11, 21)), "interval": "5m"}
    assert (
        get(fake_yahoo, "/v8/finance/chart/ZZFLAKY", range="1d", interval="1d").status_code == 200
    )
    statuses = [get(fake_yahoo, "/v8/finance/chart/ZZFLAKY", **data).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    fake_yahoo.reset_counters()
    assert get(fake_yahoo, "/v8/finance/chart/ZZFLAKY", **data).status_code == 500


def test_bad_requests(fake_yahoo: FakeYahoo) -> None:
    before_listing = get(
        fake_yahoo,
        "/v8/finance/chart/AAPL",
        period1=ny(date(1991, 1, 2)),
        period2=ny(date(1991, 1, 4)),
        interval="1d",
    )
    assert before_listing.status_code == 400
    recorded = load_yahoo_recording("chart_error_400_BEKE_data_doesnt_exist")
    error = before_listing.json()["chart"]["error"]
    assert error["code"] == recorded["chart"]["error"]["code"] == "Bad Request"
    assert re.fullmatch(
        r"Data doesn't exist for startDate = \d+, endDate = \d+", error["description"]
    )
    assert get(fake_yahoo, "/v8/finance/chart/AAPL", interval="7m").status_code == 400
    assert get(fake_yahoo, "/v8/finance/chart/AAPL", range="7y").status_code == 400
    assert get(fake_yahoo, "/v99/nothing/here").status_code == 404


@pytest.mark.parametrize(
    ("interval", "days_back", "span_days", "message"),
    [
        ("5m", 61, 2, "The requested range must be within the last 60 days."),
        ("90m", 61, 2, "The requested range must be within the last 60 days."),
        ("1m", 31, 2, "The requested range must be within the last 30 days."),
        ("60m", 731, 2, "The requested range must be within the last 730 days."),
        ("1h", 731, 2, "The requested range must be within the last 730 days."),
        (
            "1m",
            20,
            9,
            "Only 8 days worth of 1m granularity data are allowed to be fetched per request.",
        ),
    ],
)
def test_lookback_limits_answer_422(
    fake_yahoo: FakeYahoo, interval: str, days_back: int, span_days: int, message: str
) -> None:
    now = int(DEFAULT_TEST_NOW.timestamp())
    p1 = now - days_back * 86_400
    p2 = p1 + span_days * 86_400
    response = get(fake_yahoo, "/v8/finance/chart/AAPL", period1=p1, period2=p2, interval=interval)
    assert response.status_code == 422
    template = load_yahoo_recording("chart_error_422_intraday_range.RECONSTRUCTED")
    error = response.json()["chart"]["error"]
    assert response.json()["chart"]["result"] is None
    assert error["code"] == template["chart"]["error"]["code"]
    if message.startswith("Only"):
        assert error["description"] == message
    else:
        assert error["description"] == (
            f"{interval} data not available for startTime={p1} and endTime={p2}. {message}"
        )
    inside = get(
        fake_yahoo,
        "/v8/finance/chart/AAPL",
        period1=now - 7 * 86_400,
        period2=now,
        interval=interval,
    )
    assert inside.status_code == 200


# Limits and counters ----------------------------------------------------------------------


@pytest.mark.fake_yahoo(rate_limit_per_second=5)
def test_rate_limit_answers_429_above_the_setting(fake_yahoo: FakeYahoo) -> None:
    started = time.monotonic()
    statuses = [get(fake_yahoo, "/v1/test/getcrumb").status_code for _ in range(20)]
    assert time.monotonic() - started < 1.0
    assert statuses.count(200) == 5 and statuses.count(429) == 15
    assert fake_yahoo.rate_limited == 15
    time.sleep(1.05)
    response = get(fake_yahoo, "/v8/finance/chart/AAPL", range="1d", interval="1d")
    assert response.status_code == 200


@pytest.mark.fake_yahoo(latency_seconds=0.2)
def test_latency_setting_delays_answers(fake_yahoo: FakeYahoo) -> None:
    started = time.monotonic()
    assert get(fake_yahoo, "/v1/test/getcrumb").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_quote_answers_hundreds_of_symbols_at_once(fake_yahoo: FakeYahoo) -> None:
    symbols = [f"S{i:03d}" for i in range(300)] + ["ZZGONE"]
    response = get(fake_yahoo, "/v7/finance/quote", symbols=",".join(symbols))
    results = response.json()["quoteResponse"]["result"]
    assert [q["symbol"] for q in results] == symbols[:300]
    keys = set(load_yahoo_recording("quote_v7_multi_AAPL_BABA")["quoteResponse"]["result"][0])
    assert (
        {
            "regularMarketPrice",
            "regularMarketTime",
            "marketState",
            "currency",
            "exchange",
            "fullExchangeName",
            "shortName",
            "longName",
        }
        <= set(results[0])
        <= keys
    )
    first = results[0]
    assert first["marketState"] == "POST" and first["currency"] == "USD"
    daily = frame(chart(fake_yahoo, "S000", range="5d", interval="1d"))
    assert first["regularMarketPrice"] == pytest.approx(daily["close"].iloc[-1], abs=1e-3)
    assert first["regularMarketPreviousClose"] == pytest.approx(daily["close"].iloc[-2], abs=1e-3)
    assert fake_yahoo.requests_by_symbol[("quote", "S123")] == 1


def test_counters_and_request_log(fake_yahoo: FakeYahoo) -> None:
    headers = {"X-Forwarded-Host": "query2.finance.yahoo.com"}
    HTTP.get(fake_yahoo.url + "/v8/finance/chart/AAPL?range=1d&interval=1d", headers=headers)
    get(fake_yahoo, "/v1/test/getcrumb")
    get(fake_yahoo, "/")
    get(fake_yahoo, "/nope")
    assert fake_yahoo.requests == {"chart": 1, "crumb": 1, "cookie": 1, "other": 1}
    assert fake_yahoo.requests_by_symbol == {("chart", "AAPL"): 1}
    first = fake_yahoo.log[0]
    assert (first.method, first.path, first.query, first.status, first.host) == (
        "GET",
        "/v8/finance/chart/AAPL",
        {"range": "1d", "interval": "1d"},
        200,
        "query2.finance.yahoo.com",
    )
    assert [r.status for r in fake_yahoo.log] == [200, 200, 404, 404]
    fake_yahoo.reset_counters()
    assert not fake_yahoo.requests and not fake_yahoo.log


def test_cookie_crumb_and_consent_flow(fake_yahoo: FakeYahoo) -> None:
    session = requests.Session()
    cookie = session.get(fake_yahoo.url + "/")
    assert cookie.status_code == 404
    header = cookie.headers["Set-Cookie"]
    assert re.fullmatch(r"A3=[^;]+; Expires=[^;]+ GMT; Path=/", header)
    assert "A3" in session.cookies
    crumb = session.get(fake_yahoo.url + "/v1/test/getcrumb")
    assert crumb.status_code == 200 and re.fullmatch(r"[A-Za-z0-9./]{11}", crumb.text)
    page = session.get(fake_yahoo.url + "/consent")
    soup = BeautifulSoup(page.content, "html.parser")
    csrf = soup.find("input", attrs={"name": "csrfToken"})
    session_id = soup.find("input", attrs={"name": "sessionId"})
    assert csrf is not None and session_id is not None
    form = {"csrfToken": csrf["value"], "sessionId": session_id["value"], "agree": "agree"}
    posted = session.post(
        f"{fake_yahoo.url}/v2/collectConsent?sessionId={session_id['value']}", data=form
    )
    assert posted.status_code == 200
    assert (
        session.get(f"{fake_yahoo.url}/copyConsent?sessionId={session_id['value']}").status_code
        == 200
    )
    assert fake_yahoo.requests["consent"] == 3


@pytest.mark.fake_yahoo(require_crumb=True)
def test_quote_endpoints_can_require_a_crumb(fake_yahoo: FakeYahoo) -> None:
    assert get(fake_yahoo, "/v7/finance/quote", symbols="AAPL").status_code == 401
    crumb = get(fake_yahoo, "/v1/test/getcrumb").text
    assert get(fake_yahoo, "/v7/finance/quote", symbols="AAPL", crumb=crumb).status_code == 200


def test_replay_of_a_recording(fake_yahoo: FakeYahoo) -> None:
    recorded = load_yahoo_recording("chart_AAPL_1m_2024-10-02_regular")
    fake_yahoo.add_recording("AAPL", recorded, match={"interval": "1m"})
    replayed = get(
        fake_yahoo, "/v8/finance/chart/AAPL", period1=1727827200, period2=1727913600, interval="1m"
    )
    assert replayed.status_code == 200 and replayed.json() == recorded
    assert chart(fake_yahoo, "AAPL", range="1d", interval="5m")["meta"]["dataGranularity"] == "5m"
    error = load_yahoo_recording("chart_error_400_BEKE_data_doesnt_exist")
    fake_yahoo.add_recording(
        "BEKE", error, status=400, match=lambda q: q.get("interval") == "1d", times=1
    )
    first = get(fake_yahoo, "/v8/finance/chart/BEKE", range="5d", interval="1d")
    assert (first.status_code, first.json()) == (400, error)
    assert get(fake_yahoo, "/v8/finance/chart/BEKE", range="5d", interval="1d").status_code == 200


def test_info_modules_for_a_known_symbol(fake_yahoo: FakeYahoo) -> None:
    modules = "financialData,quoteType,defaultKeyStatistics,assetProfile,summaryDetail"
    answer = get(fake_yahoo, "/v10/finance/quoteSummary/AAPL", modules=modules).json()
    result = answer["quoteSummary"]["result"][0]
    assert set(result) == set(modules.split(","))
    assert result["quoteType"]["longName"] == "Apple Inc." and result["assetProfile"]["sector"]
    series = get(
        fake_yahoo,
        "/ws/fundamentals-timeseries/v1/finance/timeseries/AAPL",
        symbol="AAPL",
        type="trailingPegRatio",
    ).json()
    assert series["timeseries"]["result"][0]["trailingPegRatio"][0]["reportedValue"]["raw"] > 0


def test_serve_runs_in_the_foreground_until_stopped() -> None:
    banners: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        kwargs={
            "port": 0,
            "announce": banners.append,
            "stop_event": stop,
            "now": "2026-11-25T21:30:00Z",
            "unknown_symbols": "GONE,DEAD",
        },
        daemon=True,
    )
    thread.start()
    for _ in range(100):
        if banners:
            break
        time.sleep(0.02)
    url = re.search(r"http://[\d.]+:\d+", banners[0])
    assert url is not None
    assert requests.get(url.group(0) + "/v8/finance/chart/GONE", timeout=10).status_code == 404
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


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


# yfinance itself against the fake ---------------------------------------------------------

yf = pytest.importorskip("yfinance")
yahoo_session = pytest.importorskip("stock_pipeline.yahoo.session")


@pytest.fixture
def yfinance_on_fake(fake_yahoo: FakeYahoo, tmp_path: Path) -> Iterator[Any]:
    """A session that redirects Yahoo's hosts to the fake, with yfinance's caches cleared.

    ``set_tz_cache_location`` only moves the caches before their first use in a process.
    """
    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()  # its response cache is process-wide
    hide = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = True  # yfinance's default; other code may change it
    yield yahoo_session.YahooSession(base_url=fake_yahoo.url)
    yf.config.debug.hide_exceptions = hide


def test_yfinance_history_intraday(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    fake_yahoo.set_now(BLACK_FRIDAY_EVENING)
    ticker = yf.Ticker("YFPROBE", session=yfinance_on_fake)
    df = ticker.history(start="2026-11-23", end="2026-11-28", interval="5m", auto_adjust=False)
    assert str(df.index.tz) == "America/New_York"
    expected = [
        ts
        for d in (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27))
        for ts in expected_bar_starts(d, "5m")
    ]
    raw = frame(
        chart(
            fake_yahoo,
            "YFPROBE",
            period1=ny(date(2026, 11, 23)),
            period2=ny(date(2026, 11, 28)),
            interval="5m",
        )
    )
    nulls = raw[raw["close"].isna()].index
    # yfinance drops Yahoo's 13:00 early-close bar and the all-null bars.
    assert list(df.index.tz_convert("UTC")) == [ts for ts in expected if ts not in nulls]
    assert df["Close"].tolist() == raw.loc[df.index.tz_convert("UTC"), "close"].tolist()
    # yfinance asked for the timezone probe (a symbol it has not seen in this process; its
    # tz cache stays where it was first opened), then the data; the third is this test's.
    charts = [r for r in fake_yahoo.log if r.kind == "chart"]
    assert len(charts) == 3
    assert charts[0].query["range"] == "1d" and charts[1].query["interval"] == "5m"


def test_yfinance_history_daily_with_split_and_dividends(
    fake_yahoo: FakeYahoo, yfinance_on_fake: Any
) -> None:
    split = yf.Ticker("SPLT", session=yfinance_on_fake).history(
        start="2026-06-01", end="2026-07-01"
    )
    assert split.loc["2026-06-15", "Stock Splits"] == 4.0
    assert (split["Stock Splits"] != 0).sum() == 1
    msft = yf.Ticker("MSFT", session=yfinance_on_fake).history(start="2025-11-01", end="2026-11-01")
    assert (msft["Dividends"] > 0).sum() == 4
    assert len(msft) == len(sessions_between(date(2025, 11, 1), date(2026, 10, 31)))


def test_yfinance_info(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    info = yf.Ticker("AAPL", session=yfinance_on_fake).info
    assert info["longName"] == "Apple Inc." and info["shortName"] == "Apple Inc."
    assert info["exchange"] == "NMS" and info["currency"] == "USD" and info["quoteType"] == "EQUITY"
    assert info["sector"] == "Technology" and info["industry"] == "Consumer Electronics"
    kinds = {r.kind for r in fake_yahoo.log}
    assert {"quote_summary", "quote", "timeseries"} <= kinds


def test_yfinance_surfaces_each_error(fake_yahoo: FakeYahoo, yfinance_on_fake: Any) -> None:
    from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

    yf.config.debug.hide_exceptions = False
    window = {"start": "2026-11-16", "end": "2026-11-21", "interval": "5m"}

    def history(symbol: str, **kwargs: Any) -> pd.DataFrame:
        return yf.Ticker(symbol, session=yfinance_on_fake).history(**{**window, **kwargs})

    with pytest.raises(YFPricesMissingError):
        history("ZZEMPTY")
    with pytest.raises(YFRateLimitError):
        history("ZZRATELIMIT")
    with pytest.raises(json.JSONDecodeError):
        history("ZZBADJSON")
    with pytest.raises(YFPricesMissingError) as refused:
        history("AAPL", start="2026-08-03", end="2026-08-05")
    assert "within the last 60 days" in str(refused.value.yahoo_reason)
    yf.config.debug.hide_exceptions = True
    assert history("ZZEMPTY").empty
    assert 5 * 78 - 5 <= len(history("MSFT")) <= 5 * 78  # all-null bars dropped


@pytest.mark.fake_yahoo(flaky_failures=2)
def test_yfinance_replays_a_failed_past_window_from_its_response_cache(
    fake_yahoo: FakeYahoo, yfinance_on_fake: Any
) -> None:
    """yfinance caches answers for windows ending 30+ minutes before the real clock, errors
    included: retrying ZZFLAKY reaches the fake again only once that cache is cleared."""
    from yfinance.data import YfData

    ticker = yf.Ticker("ZZFLAKY", session=yfinance_on_fake)
    for _ in range(2):
        assert ticker.history(start="2026-11-16", end="2026-11-21", interval="5m").empty
    data = [r.status for r in fake_yahoo.log if r.kind == "chart" and "period1" in r.query]
    assert data == [500, 500]  # one call plus yfinance's own retry; the second was cached
    YfData.cache_get.cache_clear()
    df = ticker.history(start="2026-11-16", end="2026-11-21", interval="5m")
    assert 5 * 78 - 5 <= len(df) <= 5 * 78
