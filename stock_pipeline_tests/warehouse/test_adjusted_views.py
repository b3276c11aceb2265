"""Raw rows stay as traded; the adjusted views follow every split and dividend known today.

The clock moves through SPLT's 4:1 split (2026-06-15) and MSFT's September dividend between
two syncs; the views must then equal what yfinance's history(auto_adjust=False) says today.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from stock_pipeline.domain.planning import FetchWindow
from stock_pipeline.domain.weeks import week_of, weekly_from_daily
from stock_pipeline.fake_yahoo import SplitEvent
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.client import YahooClient, YahooSettings
from stock_pipeline_tests.support.pipeline import Pipeline

BEFORE = datetime(2026, 6, 12, 21, 0, tzinfo=UTC)  # Friday after the close, before the split
AFTER_SPLIT = datetime(2026, 6, 15, 21, 0, tzinfo=UTC)  # the split's session has closed
LATER = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # after the September dividend
COLUMNS = ["open", "high", "low", "close", "volume"]


def move_clock(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    pipeline.fake.config.now = instant
    monkeypatch.setenv("STOCK_PIPELINE_NOW", instant.isoformat())


def yahoo_today(pipeline: Pipeline, tmp_path: Path) -> YahooClient:
    return YahooClient(
        YahooSettings(
            base_url=pipeline.fake.url, requests_per_second=None, cache_dir=str(tmp_path / "yf")
        )
    )


def test_daily_history_synced_before_a_split_and_a_dividend_matches_yahoo_after_them(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pipeline.register(["SPLT", "MSFT"])
    move_clock(pipeline, monkeypatch, BEFORE)
    assert pipeline.materialize("daily_prices", "2025|SPLT", "2026|MSFT").success
    move_clock(pipeline, monkeypatch, LATER)
    # As the close schedule does: only the current year again; 2025 is complete.
    assert pipeline.materialize("daily_prices", "2026|SPLT", "2026|MSFT").success

    raw = pipeline.query(
        "SELECT date, close, fetched_at FROM daily_prices WHERE symbol = 'SPLT' ORDER BY date"
    )
    raw = raw.set_index(pd.to_datetime(raw["date"]).dt.date)
    # Raw stays raw: no fake -75% at the year boundary, the split is a real one-day drop.
    assert raw.loc[date(2026, 1, 2), "close"] / raw.loc[date(2025, 12, 31), "close"] > 0.8
    assert raw.loc[date(2026, 6, 15), "close"] / raw.loc[date(2026, 6, 12), "close"] < 0.3
    assert raw.loc[date(2025, 12, 31), "fetched_at"] == pd.Timestamp(BEFORE)
    assert raw.loc[date(2026, 6, 12), "fetched_at"] == pd.Timestamp(LATER)

    assert pipeline.materialize("stocks", "SPLT", "MSFT").success
    client = yahoo_today(pipeline, tmp_path)
    for symbol in ("SPLT", "MSFT"):
        yahoo = client.history(symbol, "1d", start=date(2025, 1, 1), end=date(2026, 11, 27))
        view = pipeline.query(
            "SELECT * FROM daily_prices_adjusted WHERE symbol = ? AND interval = '1d' "
            "ORDER BY date",
            [symbol],
        )
        view["date"] = pd.to_datetime(view["date"]).dt.date
        both = yahoo.merge(view, on="date", suffixes=("_yahoo", ""))
        assert len(both) == len(yahoo) == len(view) > 400
        for column in [*COLUMNS, "adj_close"]:
            assert both[column].to_numpy() == pytest.approx(
                both[f"{column}_yahoo"].to_numpy(), rel=1e-4
            ), f"{symbol} {column}"
        assert set(view["currency"]) == {"USD"}  # from stocks


# Intraday partitions reach 63 days back from the suite's clock (2026-11-25, so from
# 2026-09-23): the intraday test's split is within them (SPLT's default one, 2026-06-15, is
# not).
INTRADAY_SPLIT = date(2026, 10, 14)
BEFORE_INTRADAY_SPLIT = datetime(2026, 10, 13, 21, 0, tzinfo=UTC)  # Tuesday after the close
AFTER_INTRADAY_SPLIT = datetime(2026, 10, 14, 21, 0, tzinfo=UTC)  # the split's session closed


# No all-null bars: both sessions are complete (78 bars each), as SPLT's default ones were.
@pytest.mark.fake_yahoo(splits={"SPLT": (SplitEvent(INTRADAY_SPLIT, 4),)}, null_bar_every=0)
def test_intraday_bars_either_side_of_a_split_are_on_one_basis_in_the_view(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pipeline.register(["SPLT"])
    move_clock(pipeline, monkeypatch, BEFORE_INTRADAY_SPLIT)
    assert pipeline.materialize("intraday_prices", "2026-10-13|SPLT").success
    move_clock(pipeline, monkeypatch, AFTER_INTRADAY_SPLIT)
    assert pipeline.materialize("intraday_prices", "2026-10-14|SPLT").success

    raw = pipeline.query("SELECT session_date, avg(close) AS c FROM intraday_prices GROUP BY 1")
    level = dict(zip(pd.to_datetime(raw["session_date"]).dt.date, raw["c"], strict=True))
    assert level[date(2026, 10, 13)] > 3 * level[INTRADAY_SPLIT]  # as traded: pre-split

    yahoo = yahoo_today(pipeline, tmp_path).intraday_window(
        FetchWindow("SPLT", (date(2026, 10, 13), INTRADAY_SPLIT)), "5m", now=AFTER_INTRADAY_SPLIT
    )
    view = pipeline.query("SELECT * FROM intraday_prices_adjusted ORDER BY ts")
    both = yahoo.merge(view, on="ts", suffixes=("_yahoo", ""))
    assert len(both) == len(yahoo) == len(view) == 2 * 78
    for column in COLUMNS:
        assert both[column].to_numpy() == pytest.approx(
            both[f"{column}_yahoo"].to_numpy(), rel=1e-4
        ), column


WEEK_SPLIT = date(2026, 3, 11)  # a Wednesday: the week of 2026-03-09 trades on two bases
BEFORE_WEEK_SPLIT = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)


def weekly_aggregate(daily: pd.DataFrame) -> pd.DataFrame:
    days = daily.assign(week=[week_of(d) for d in daily["date"]])
    return days.groupby("week").agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        adj_close=("adj_close", "last"),
    )


@pytest.mark.fake_yahoo(splits={"MSFT": (SplitEvent(WEEK_SPLIT, 2),)})
def test_weekly_bars_with_a_split_inside_a_week_adjust_like_yahoos(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pipeline.register(["MSFT"])
    weekly = {"interval": "1wk"}
    move_clock(pipeline, monkeypatch, BEFORE_WEEK_SPLIT)
    assert pipeline.materialize("daily_prices", "2025|MSFT", "2026|MSFT", weekly).success
    move_clock(pipeline, monkeypatch, LATER)
    assert pipeline.materialize("daily_prices", "2026|MSFT", config=weekly).success
    assert pipeline.materialize("daily_prices", "2025|MSFT", "2026|MSFT").success  # 1d

    raw = pipeline.query(
        "SELECT interval, date, open, close, stock_splits FROM daily_prices "
        "WHERE date BETWEEN '2026-03-09' AND '2026-03-13' ORDER BY interval, date"
    ).set_index(["interval", "date"])
    week = raw.loc[("1wk", pd.Timestamp(date(2026, 3, 9)))]
    # The week is on the basis after its split: Monday's open halved, Friday's close as is.
    assert week["open"] == raw.loc[("1d", pd.Timestamp("2026-03-09")), "open"] / 2
    assert week["close"] == raw.loc[("1d", pd.Timestamp("2026-03-13")), "close"]
    assert week["stock_splits"] == 2.0
    split_rows = pipeline.query("SELECT ex_date FROM corporate_actions WHERE kind = 'split'")
    assert [d.date() for d in pd.to_datetime(split_rows["ex_date"])] == [WEEK_SPLIT]
    # Raw weekly rows (2025 fetched before the split, 2026 after) are the stored raw daily
    # rows aggregated by the same rule: as traded, the split's week on its post-split basis
    # (adj_close aside: Yahoo's as of each fetch, kept for audit).
    stored = pipeline.query(
        "SELECT * EXCLUDE (year, fetched_at, adj_close), 0.0 AS adj_close FROM daily_prices "
        "WHERE date <= '2026-11-27' ORDER BY date"
    )
    stored["date"] = pd.to_datetime(stored["date"]).dt.date
    days = stored[(stored["interval"] == "1d") & (stored["date"] >= date(2025, 1, 6))]
    rebuilt = weekly_from_daily(days, [(WEEK_SPLIT, 2.0)], decimals=6)
    weeks = stored[stored["interval"] == "1wk"].reset_index(drop=True)
    weeks = weeks[list(rebuilt.columns)].astype(rebuilt.dtypes.to_dict())
    pd.testing.assert_frame_equal(rebuilt, weeks)

    view = pipeline.query(
        "SELECT * FROM daily_prices_adjusted WHERE interval = ? ORDER BY date", ["1wk"]
    )
    view = view.set_index(pd.to_datetime(view["date"]).dt.date)
    daily = pipeline.query(
        "SELECT * FROM daily_prices_adjusted WHERE interval = '1d' AND date <= '2026-11-27' "
        "ORDER BY date"
    )
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    # Every stored session is in exactly one weekly bar, which equals their aggregate.
    expected = weekly_aggregate(daily[daily["date"] >= date(2025, 1, 6)])
    assert list(expected.index) == list(view.index)
    for column in expected.columns:
        assert view[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-6), (
            column
        )
    # ... and what yfinance's weekly history says today.
    yahoo = yahoo_today(pipeline, tmp_path).history(
        "MSFT", "1wk", start=date(2025, 1, 6), end=date(2026, 11, 27)
    )
    both = yahoo.merge(
        view.reset_index(drop=True).assign(date=list(view.index)),
        on="date",
        suffixes=("_yahoo", ""),
    )
    assert len(both) == len(view) > 90
    for column in [*COLUMNS, "adj_close"]:
        assert both[column].to_numpy() == pytest.approx(
            both[f"{column}_yahoo"].to_numpy(), rel=1e-4
        ), column


def store(duckdb_file: Path, table: str, rows: list[tuple[object, ...]]) -> None:
    with connect(duckdb_file) as con:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def daily_bar(symbol: str, day: date, close: float) -> tuple[object, ...]:
    return (symbol, "1d", day, day.year, close, close, close, close, None, 1000, 0, 0, None)


def test_dividends_take_the_last_close_before_their_ex_date_across_gaps_and_years(
    duckdb_file: Path,
) -> None:
    # X: a close across the year boundary, a dividend whose range since the previous
    # ex-date holds no bar (its close is the one before that), a dividend before any bar
    # (no ratio), then a 2:1 split. Y: a bar before 1900 (the lowest year bucket).
    store(
        duckdb_file,
        "daily_prices",
        [
            daily_bar("X", date(2023, 12, 29), 90.0),
            daily_bar("X", date(2024, 1, 2), 100.0),
            daily_bar("X", date(2024, 1, 3), 110.0),
            daily_bar("X", date(2024, 3, 1), 50.0),
            daily_bar("Y", date(1899, 12, 28), 10.0),
            daily_bar("Y", date(1950, 1, 3), 12.0),
        ],
    )
    store(
        duckdb_file,
        "corporate_actions",
        [
            ("X", date(2023, 6, 1), "dividend", 0.5, None),  # before any bar: no ratio
            ("X", date(2024, 1, 2), "dividend", 0.9, None),  # 1 - 0.9 / 90 = 0.99
            ("X", date(2024, 2, 1), "dividend", 1.1, None),  # 1 - 1.1 / 110 = 0.99
            ("X", date(2024, 2, 15), "dividend", 2.2, None),  # no bar since 02-01: 110
            ("X", date(2024, 3, 1), "split", 2.0, None),
            ("Y", date(1950, 1, 3), "dividend", 0.1, None),  # 1 - 0.1 / 10 = 0.99
        ],
    )
    with connect(duckdb_file, read_only=True) as con:
        view = con.execute(
            "SELECT symbol, date, close, adj_close, volume FROM daily_prices_adjusted "
            "ORDER BY symbol, date"
        ).fetchall()
    expected = [
        ("X", date(2023, 12, 29), 45.0, 45.0 * 0.99 * 0.99 * 0.98, 2000),
        ("X", date(2024, 1, 2), 50.0, 50.0 * 0.99 * 0.98, 2000),
        ("X", date(2024, 1, 3), 55.0, 55.0 * 0.99 * 0.98, 2000),
        ("X", date(2024, 3, 1), 50.0, 50.0, 1000),
        ("Y", date(1899, 12, 28), 10.0, 9.9, 1000),
        ("Y", date(1950, 1, 3), 12.0, 12.0, 1000),
    ]
    assert [row[:3] + row[4:] for row in view] == [row[:3] + row[4:] for row in expected]
    assert [row[3] for row in view] == pytest.approx([row[3] for row in expected], rel=1e-12)


def test_intraday_bars_are_divided_by_every_later_split(duckdb_file: Path) -> None:
    def bar(day: date, close: float, volume: int) -> tuple[object, ...]:
        ts = datetime(day.year, day.month, day.day, 14, 30, tzinfo=UTC)
        return ("Z", "5m", day, ts, close, close, close, close, volume, None)

    store(
        duckdb_file,
        "intraday_prices",
        [
            bar(date(2024, 2, 29), 60.0, 100),
            bar(date(2024, 3, 1), 30.0, 200),
            bar(date(2024, 6, 3), 10.0, 600),
        ],
    )
    store(
        duckdb_file,
        "corporate_actions",
        [
            ("Z", date(2024, 3, 1), "split", 2.0, None),
            ("Z", date(2024, 6, 3), "split", 3.0, None),
            ("Z", date(2024, 4, 1), "dividend", 1.0, None),  # no effect on intraday bars
        ],
    )
    with connect(duckdb_file, read_only=True) as con:
        view = con.execute(
            "SELECT session_date, close, volume FROM intraday_prices_adjusted ORDER BY ts"
        ).fetchall()
    assert view == [
        (date(2024, 2, 29), 10.0, 600),
        (date(2024, 3, 1), 10.0, 600),
        (date(2024, 6, 3), 10.0, 600),
    ]
