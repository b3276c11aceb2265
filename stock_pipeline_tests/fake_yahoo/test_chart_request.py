"""Chart queries read like Yahoo reads them, and refused like Yahoo refuses them (400, 422)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW, load_yahoo_recording
from stock_pipeline_tests.support.fake_yahoo_http import (
    get,
    ny,
)


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
