"""Routing and scripted behaviour: failures, flakiness, rate limit, latency, counters, replays."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import load_yahoo_recording
from stock_pipeline_tests.support.fake_yahoo_http import (
    HTTP,
    chart,
    get,
    ny,
)


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
