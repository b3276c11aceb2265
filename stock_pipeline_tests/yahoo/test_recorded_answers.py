"""The parser proven on real recorded Yahoo answers, served over HTTP to yfinance's own code.

Recordings: stock_pipeline_tests/fixtures/yahoo/ (PROVENANCE.md says where each is from).
"""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from stock_pipeline.domain.errors import (
    LookbackExceededError,
    NoDataError,
    SymbolNotFoundError,
    YahooRejectedError,
)
from stock_pipeline.domain.planning import FetchWindow
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import load_yahoo_recording
from stock_pipeline.yahoo.client import YahooClient, YahooSettings


@pytest.fixture
def client(fake_yahoo: FakeYahoo, tmp_path: Path) -> YahooClient:
    return YahooClient(
        YahooSettings(
            base_url=fake_yahoo.url,
            requests_per_second=None,
            max_retries=0,
            cache_dir=str(tmp_path / "yf"),
        )
    )


def test_one_minute_day_drops_the_null_bar_and_the_appended_bar(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    body = load_yahoo_recording("chart_AAPL_1m_2024-10-02_regular")
    raw_ts = body["chart"]["result"][0]["timestamp"]
    assert len(raw_ts) == 391  # 390 regular bars (one all-null) + Yahoo's appended bar
    fake_yahoo.add_recording("AAPL", body, match={"interval": "1m"})
    frame = client.intraday_window(
        FetchWindow("AAPL", (date(2024, 10, 2),)), "1m", now=datetime(2024, 10, 4, tzinfo=UTC)
    )
    assert len(frame) == 389
    null_ts = datetime.fromtimestamp(raw_ts[105], UTC)
    assert null_ts not in {ts.to_pydatetime() for ts in frame["ts"]}
    assert frame["ts"].min() == datetime(2024, 10, 2, 13, 30, tzinfo=UTC)
    assert frame["ts"].max() == datetime(2024, 10, 2, 19, 59, tzinfo=UTC)
    assert set(frame["session_date"]) == {date(2024, 10, 2)}
    assert frame[["open", "high", "low", "close"]].notna().all().all()


def test_daily_answer_keeps_the_split_and_the_dividend(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    fake_yahoo.add_recording(
        "AAPL",
        load_yahoo_recording("chart_AAPL_1d_2020-08-31_2020-11-07_split_div"),
        match={"interval": "1d"},
    )
    frame = client.history("AAPL", "1d", start=date(2020, 8, 31), end=date(2020, 11, 6))
    assert len(frame) == 49
    by_date = frame.set_index("date")
    assert by_date.loc[date(2020, 8, 31), "stock_splits"] == 4.0
    assert by_date.loc[date(2020, 11, 6), "dividends"] == pytest.approx(0.205)
    assert (frame["stock_splits"] > 0).sum() == 1 and (frame["dividends"] > 0).sum() == 1
    # Raw close kept beside the adjusted close, which is lower before the dividend.
    first = by_date.loc[date(2020, 8, 31)]
    assert first["adj_close"] < first["close"]


def test_a_year_of_dividends(client: YahooClient, fake_yahoo: FakeYahoo) -> None:
    fake_yahoo.add_recording(
        "MSFT",
        load_yahoo_recording("chart_MSFT_1d_2021-02-01_2022-01-31_dividends"),
        match={"interval": "1d"},
    )
    frame = client.history("MSFT", "1d", start=date(2021, 2, 1), end=date(2022, 1, 28))
    assert len(frame) == 252
    assert list(frame.loc[frame["dividends"] > 0, "dividends"]) == pytest.approx(
        [0.56, 0.56, 0.56, 0.62]
    )


def test_weekend_empty_answer_is_an_error_not_an_empty_success(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    fake_yahoo.add_recording(
        "AAPL",
        load_yahoo_recording("chart_AAPL_1m_2025-02-01_weekend_empty"),
        match={"interval": "1m"},
    )
    with pytest.raises(NoDataError, match="no bars"):
        client.intraday_window(
            FetchWindow("AAPL", (date(2025, 1, 31),)), "1m", now=datetime(2025, 2, 2, tzinfo=UTC)
        )


@pytest.mark.parametrize(
    ("recording", "status", "error", "says"),
    [
        ("chart_error_404_not_found.RECONSTRUCTED", 404, SymbolNotFoundError, "unknown"),
        (
            "chart_error_422_intraday_range.RECONSTRUCTED",
            422,
            LookbackExceededError,
            "within the last 60 days",
        ),
        ("chart_error_400_BEKE_data_doesnt_exist", 400, YahooRejectedError, "Data doesn't exist"),
    ],
)
def test_yahoos_error_answers_become_typed_errors(
    client: YahooClient,
    fake_yahoo: FakeYahoo,
    recording: str,
    status: int,
    error: type[Exception],
    says: str,
) -> None:
    fake_yahoo.add_recording(
        "MSFT", load_yahoo_recording(recording), status=status, match={"interval": "5m"}
    )
    with pytest.raises(error, match=says):
        client.intraday_window(FetchWindow("MSFT", (date(2026, 11, 24),)), "5m")
