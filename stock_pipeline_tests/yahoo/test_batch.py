"""Batch fetching against the fake Yahoo: requests per batch, per-partition outcomes."""

from datetime import date
from pathlib import Path

from stock_pipeline.domain.partition_keys import SymbolDay, SymbolYear
from stock_pipeline.domain.weeks import week_of
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.batch import fetch_history, fetch_intraday
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

DAYS = (date(2026, 11, 23), date(2026, 11, 24))


def make_client(fake: FakeYahoo, tmp_path: Path) -> YahooClient:
    return YahooClient(
        YahooSettings(base_url=fake.url, requests_per_second=None, cache_dir=str(tmp_path))
    )


def test_a_cold_intraday_batch_asks_timezones_in_one_quote_not_one_probe_each(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    symbols = ["FBIA", "FBIB", "FBIC", "FBID"]
    result = fetch_intraday(
        make_client(fake_yahoo, tmp_path),
        [SymbolDay(s, d) for s in symbols for d in DAYS],
        "5m",
    )
    assert not result.failed and len(result.outcomes) == 8
    assert result.requests["quote"] == 1 and result.requests["timezone"] == 0
    assert result.requests["chart"] == 4  # one window per symbol
    assert fake_yahoo.requests["timezone"] == 0


def test_one_unknown_symbol_still_fails_alone_after_the_timezone_quote(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    result = fetch_history(
        make_client(fake_yahoo, tmp_path),
        [SymbolYear(s, 2025) for s in ("FBHA", "FBHB", "ZZNOSUCH")],
        "1d",
    )
    assert sorted(result.succeeded) == ["2025|FBHA", "2025|FBHB"]
    assert "ZZNOSUCH" in result.failed["2025|ZZNOSUCH"]
    assert result.requests["quote"] == 1


def test_weekly_bars_across_new_year_lose_no_session_and_equal_their_daily_bars(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    client = make_client(fake_yahoo, tmp_path)
    weekly = fetch_history(client, [SymbolYear("WKLY", y) for y in (2024, 2025)], "1wk")
    assert not weekly.failed and weekly.requests["chart"] == 1  # one request per symbol
    daily = fetch_history(client, [SymbolYear("WKLY", y) for y in (2024, 2025, 2026)], "1d")
    weeks = weekly.frame.set_index("date")
    days = daily.frame[daily.frame["date"] <= date(2026, 1, 4)].copy()  # 2025's last week
    days["week"] = [week_of(d) for d in days["date"]]
    # Every session is in exactly one weekly bar; each week in the year of its Monday.
    assert weeks.index.is_unique and set(days["week"]) == set(weeks.index)
    assert weeks.loc[date(2024, 12, 30), "year"] == 2024  # holds 2025-01-02 and 01-03
    assert weeks.loc[date(2025, 12, 29), "year"] == 2025  # holds 2026-01-02
    assert min(weeks.index[weeks["year"] == 2025]) == date(2025, 1, 6)
    agg = days.groupby("week").agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        adj_close=("adj_close", "last"),
        volume=("volume", "sum"),
    )
    assert (agg.index == weeks.index).all()
    for column in agg.columns:
        assert (weeks[column].to_numpy() == agg[column].to_numpy()).all(), column
    assert (
        agg.loc[date(2024, 12, 30), "volume"]
        == days[days["week"] == date(2024, 12, 30)]["volume"].sum()
    )
    assert len(days[days["week"] == date(2024, 12, 30)]) == 4  # Mon, Tue, Thu 2nd, Fri 3rd
