"""Answers as the app builds them, and Yahoo's fixed bodies (429 text, outage page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from stock_pipeline.fake_yahoo.chart_request import dumps

Headers = Mapping[str, str] | Message  # http.server gives an email Message
JSON = "application/json;charset=utf-8"
TEXT = "text/plain;charset=utf-8"
HTML = "text/html;charset=utf-8"
TOO_MANY_REQUESTS = b"Too Many Requests"
# Yahoo's outage page; yfinance looks for "Will be right back" in it.
OUTAGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-us"><head><meta charset="utf-8"><title>Yahoo</title>'
    b'</head><body><div id="message-1">Thank you for your patience.</div>'
    b'<div id="message-2">Will be right back...</div><p>Our engineers are working quickly '
    b"to resolve the issue.</p></body></html>"
)


@dataclass
class Response:
    """Status, body and headers of one answer, before HTTP framing."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any) -> Response:
    return Response(status, dumps(payload))


def finance_error(status: int, code: str, description: str) -> Response:
    return json_response(
        status, {"finance": {"result": None, "error": {"code": code, "description": description}}}
    )
