"""Raw rows stay as traded; the adjusted views follow every split and dividend known today.

The clock moves through SPLT's 4:1 split (2026-06-15) and MSFT's September dividend between
two syncs; the views must then equal what yfinance's history(auto_adjust=False) says today.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from stock_pipeline.domain.planning import FetchWindow
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


def test_intraday_bars_either_side_of_a_split_are_on_one_basis_in_the_view(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pipeline.register(["SPLT"])
    move_clock(pipeline, monkeypatch, BEFORE)
    assert pipeline.materialize("intraday_prices", "2026-06-12|SPLT").success
    move_clock(pipeline, monkeypatch, AFTER_SPLIT)
    assert pipeline.materialize("intraday_prices", "2026-06-15|SPLT").success

    raw = pipeline.query("SELECT session_date, avg(close) AS c FROM intraday_prices GROUP BY 1")
    level = dict(zip(pd.to_datetime(raw["session_date"]).dt.date, raw["c"], strict=True))
    assert level[date(2026, 6, 12)] > 3 * level[date(2026, 6, 15)]  # as traded: pre-split

    yahoo = yahoo_today(pipeline, tmp_path).intraday_window(
        FetchWindow("SPLT", (date(2026, 6, 12), date(2026, 6, 15))), "5m", now=AFTER_SPLIT
    )
    view = pipeline.query("SELECT * FROM intraday_prices_adjusted ORDER BY ts")
    both = yahoo.merge(view, on="ts", suffixes=("_yahoo", ""))
    assert len(both) == len(yahoo) == len(view) == 2 * 78
    for column in COLUMNS:
        assert both[column].to_numpy() == pytest.approx(
            both[f"{column}_yahoo"].to_numpy(), rel=1e-4
        ), column
