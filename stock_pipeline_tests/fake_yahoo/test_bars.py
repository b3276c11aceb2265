"""Bars the fake serves: the trading calendar, DST, aggregation, the partial session, null bars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    expected_bar_starts,
    session_open,
)
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline_tests.support.fake_yahoo_http import (
    BLACK_FRIDAY_EVENING,
    chart,
    day_chart,
    frame,
    get,
    ny,
    regular,
)


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING)
def test_full_day_has_78_five_minute_bars_at_the_calendar_times(fake_yahoo: FakeYahoo) -> None:
    result = day_chart(fake_yahoo, "AAPL", date(2026, 11, 25), "5m")
    df = regular(result)  # drops the "latest" bar Yahoo appends after a past period2
    assert list(df.index) == list(expected_bar_starts(date(2026, 11, 25), "5m"))
    assert len(df) == 78
    assert df.index[0] == pd.Timestamp("2026-11-25 14:30", tz="UTC")


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


TRUNCATED = date(2026, 11, 24)


@pytest.mark.fake_yahoo(
    now=BLACK_FRIDAY_EVENING, null_bar_every=0, truncated_sessions={("KO", TRUNCATED): 60}
)
@pytest.mark.parametrize(("interval", "kept"), [("5m", 66), ("60m", 6), ("1m", 330)])
def test_a_truncated_session_lacks_its_last_minutes_at_every_interval(
    fake_yahoo: FakeYahoo, interval: str, kept: int
) -> None:
    df = regular(day_chart(fake_yahoo, "KO", TRUNCATED, interval))
    assert list(df.index) == list(expected_bar_starts(TRUNCATED, interval))[:kept]
    other = regular(day_chart(fake_yahoo, "AAPL", TRUNCATED, interval))  # another symbol
    assert len(other) == len(expected_bar_starts(TRUNCATED, interval))
    fake_yahoo.config.truncated_sessions = {}  # Yahoo has the bars again
    assert len(regular(day_chart(fake_yahoo, "KO", TRUNCATED, interval))) > kept


@pytest.mark.fake_yahoo(now=BLACK_FRIDAY_EVENING, null_bar_every=2)
@pytest.mark.parametrize("interval", ["15m", "60m", "90m"])
def test_bars_of_15_minutes_or_more_are_never_all_null(
    fake_yahoo: FakeYahoo, interval: str
) -> None:
    df = frame(chart(fake_yahoo, "AAPL", range="1mo", interval=interval))
    assert not df["close"].isna().any()
    five = frame(chart(fake_yahoo, "AAPL", range="5d", interval="5m"))
    assert five["close"].isna().any()  # short bars still come without a trade
