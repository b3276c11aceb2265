"""Answers before HTTP framing: JSON bodies and Yahoo's finance error shape."""

import json

from stock_pipeline.fake_yahoo.responses import JSON, OUTAGE_PAGE, finance_error, json_response


def test_json_answers() -> None:
    answer = json_response(200, {"a": [1, 2]})
    assert (answer.status, answer.content_type, answer.headers) == (200, JSON, [])
    assert json.loads(answer.body) == {"a": [1, 2]}


def test_finance_errors_have_yahoo_s_shape() -> None:
    answer = finance_error(404, "Not Found", "Quote not found for symbol: ZZX")
    assert answer.status == 404
    assert json.loads(answer.body) == {
        "finance": {
            "result": None,
            "error": {"code": "Not Found", "description": "Quote not found for symbol: ZZX"},
        }
    }


def test_the_outage_page_is_what_yfinance_looks_for() -> None:
    assert b"Will be right back" in OUTAGE_PAGE
