"""Request routing, scripted failures and bookkeeping of the fake, independent of HTTP.

Routes by path only (the client rewrites every Yahoo host to one origin; the paths do
not collide). Special symbols: ``ZZRATELIMIT`` always 429, ``ZZSERVERERROR`` always 500,
``ZZBADJSON`` truncated JSON, ``ZZEMPTY`` empty chart results, ``ZZFLAKY`` 500 for its
first chart data requests; any other ``ZZ…`` symbol (and ``unknown_symbols``) is unknown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qs, unquote

from stock_pipeline.fake_yahoo.auth import YahooAuth
from stock_pipeline.fake_yahoo.chart import chart_body, check_listed
from stock_pipeline.fake_yahoo.chart_request import NOT_FOUND_BODY, ChartError, dumps, parse_request
from stock_pipeline.fake_yahoo.config import (
    BAD_JSON_SYMBOL,
    EMPTY_SYMBOL,
    FLAKY_SYMBOL,
    RATE_LIMITED_SYMBOL,
    SERVER_ERROR_SYMBOL,
    FakeYahooConfig,
    Recording,
    RecordingMatch,
    RequestRecord,
)
from stock_pipeline.fake_yahoo.history import Market
from stock_pipeline.fake_yahoo.market import session_table
from stock_pipeline.fake_yahoo.quotes import (
    quote_response,
    quote_summary,
    quote_summary_not_found,
    timeseries,
)
from stock_pipeline.fake_yahoo.responses import (
    HTML,
    JSON,
    OUTAGE_PAGE,
    TEXT,
    TOO_MANY_REQUESTS,
    Headers,
    Response,
    finance_error,
    json_response,
)

LOG_SIZE = 200_000
logger = logging.getLogger(__name__)
_PREFIXES = (
    ("/v8/finance/chart/", "chart"),
    ("/v10/finance/quoteSummary/", "quote_summary"),
    ("/v11/finance/quoteSummary/", "quote_summary"),
    ("/ws/fundamentals-timeseries/v1/finance/timeseries/", "timeseries"),
)
_EXACT = {
    "/": "cookie",
    "/v1/test/getcrumb": "crumb",
    "/consent": "consent",
    "/v2/collectConsent": "consent",
    "/copyConsent": "consent",
    "/v7/finance/quote": "quote",
    "/v6/finance/quote": "quote",
}


def classify(path: str) -> tuple[str, str | None]:
    """(request kind, symbol named in the path) for a request path."""
    if path in _EXACT:
        return _EXACT[path], None
    for prefix, kind in _PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            return kind, unquote(path[len(prefix) :]).strip("/").upper()
    return "other", None


class FakeYahooApp:
    """Answers requests; keeps counters, the request log, recordings and scripted state."""

    def __init__(self, config: FakeYahooConfig) -> None:
        self.config = config
        self.market = Market(config)
        # The exchange calendar takes ~0.8 s to build: built here, at start, so that the
        # first request is answered as fast as the rest (it was a 1.6 s stall inside
        # bench B7's measured request phase).
        session_table()
        self._lock = threading.Lock()
        self._recordings: list[Recording] = []
        self.auth = YahooAuth()
        self._accepted: deque[float] = deque()
        self.reset_counters()

    def reset_counters(self) -> None:
        """Zero the counters and log, and re-arm ``ZZFLAKY``'s failures."""
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.arrived: Counter[str] = Counter()
            self.requests_by_symbol: Counter[tuple[str, str]] = Counter()
            self.status_counts: Counter[int] = Counter()
            self.rate_limited = 0
            self.log: deque[RequestRecord] = deque(maxlen=LOG_SIZE)
            self._flaky: Counter[str] = Counter()

    def add_recording(
        self,
        symbol: str,
        body: Any,
        status: int = 200,
        match: RecordingMatch = None,
        times: int | None = None,
    ) -> None:
        """Serve ``body`` (JSON value, text or bytes) for chart requests that ``match``."""
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = dumps(body)
        looks_json = raw.lstrip()[:1] in (b"{", b"[")
        recording = Recording(
            symbol.upper(), raw, status, JSON if looks_json else TEXT, match, times
        )
        with self._lock:
            self._recordings.insert(0, recording)  # the latest added wins

    def clear_recordings(self) -> None:
        with self._lock:
            self._recordings.clear()

    def handle(self, method: str, path: str, query: str, headers: Headers) -> Response:
        kind, symbol = classify(path)
        with self._lock:
            self.arrived[kind] += 1  # before the latency: tells a test a request is in flight
        if self.config.latency_seconds > 0:
            time.sleep(self.config.latency_seconds)
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        symbols: tuple[str, ...] = (symbol,) if symbol else ()
        if kind == "quote":
            symbols = tuple(
                dict.fromkeys(
                    s.strip().upper() for s in params.get("symbols", "").split(",") if s.strip()
                )
            )
        if self._over_rate_limit():
            response = Response(429, TOO_MANY_REQUESTS, TEXT)
        else:
            try:
                response = self._dispatch(method, path, kind, symbols, params, headers)
            except Exception:  # an answer is better than a hung client; keep the trace
                logger.exception("fake Yahoo failed on %s?%s", path, query)
                response = Response(500, OUTAGE_PAGE, HTML)
        self._count(method, path, params, kind, symbols, response.status, headers)
        return response

    def _over_rate_limit(self) -> bool:
        limit = self.config.rate_limit_per_second
        if not limit:
            return False
        now = time.monotonic()
        with self._lock:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= limit:
                return True
            self._accepted.append(now)
            return False

    def _count(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        kind: str,
        symbols: tuple[str, ...],
        status: int,
        headers: Headers,
    ) -> None:
        with self._lock:
            self.requests[kind] += 1
            for s in symbols:
                self.requests_by_symbol[(kind, s)] += 1
            self.status_counts[status] += 1
            if status == 429:
                self.rate_limited += 1
            host = headers.get("X-Forwarded-Host")
            self.log.append(RequestRecord(method, path, params, status, kind, symbols, host))

    def _dispatch(
        self,
        method: str,
        path: str,
        kind: str,
        symbols: tuple[str, ...],
        params: dict[str, str],
        headers: Headers,
    ) -> Response:
        if kind == "cookie":
            return Response(404, b"<html><body>Not Found</body></html>", HTML, [self.auth.cookie()])
        if kind == "crumb":
            return Response(200, self.auth.crumb(headers.get("Cookie", "")).encode(), TEXT)
        if kind == "consent":
            return self.auth.consent(method, path)
        if kind == "other" or (method != "GET" and kind != "quote"):
            return finance_error(404, "Not Found", "HTTP 404 Not Found")
        failure = self._scripted_failure(symbols)
        if failure is not None:
            return failure
        if kind == "chart":
            return self._chart(symbols[0], params)
        needs_crumb = kind in ("quote", "quote_summary")
        if needs_crumb and self.config.require_crumb and not self.auth.issued(params.get("crumb")):
            return finance_error(401, "Unauthorized", "Invalid Crumb")
        now_s = self.config.now_epoch()
        if kind == "quote":
            if not symbols:
                return finance_error(400, "Bad Request", 'Missing value for the "symbols" argument')
            known = [s for s in symbols if not self.config.is_unknown(s)]
            return self._maybe_truncated(
                symbols, json_response(200, quote_response(self.market, known, now_s))
            )
        sym = symbols[0]
        if kind == "quote_summary":
            if self.config.is_unknown(sym) or self.market.snapshot(sym, now_s) is None:
                return json_response(404, quote_summary_not_found(sym))
            modules = params.get("modules", "").split(",")
            return self._maybe_truncated(
                symbols, json_response(200, quote_summary(self.market, sym, modules, now_s))
            )
        types = [t for t in params.get("type", "").split(",") if t]
        return json_response(200, timeseries(sym, types, now_s, not self.config.is_unknown(sym)))

    def _scripted_failure(self, symbols: tuple[str, ...]) -> Response | None:
        if RATE_LIMITED_SYMBOL in symbols:
            return Response(429, TOO_MANY_REQUESTS, TEXT)
        if SERVER_ERROR_SYMBOL in symbols:
            return Response(500, OUTAGE_PAGE, HTML)
        return None

    @staticmethod
    def _maybe_truncated(symbols: tuple[str, ...], response: Response) -> Response:
        if BAD_JSON_SYMBOL in symbols:
            response.body = response.body[: len(response.body) // 2]
        return response

    def _chart(self, symbol: str, params: dict[str, str]) -> Response:
        with self._lock:
            recording = next(
                (r for r in self._recordings if r.symbol == symbol and r.accepts(params)), None
            )
            if recording is not None and recording.remaining is not None:
                recording.remaining -= 1
        if recording is not None:
            return Response(recording.status, recording.body, recording.content_type)
        if self.config.is_unknown(symbol):
            return Response(404, NOT_FOUND_BODY)
        now_s = self.config.now_epoch()
        try:
            req = parse_request(symbol, params, now_s)
            check_listed(self.market, req)
        except ChartError as err:
            return Response(err.status, err.body)
        if symbol == FLAKY_SYMBOL and not req.is_tz_probe:
            with self._lock:
                failed = self._flaky[symbol]
                self._flaky[symbol] += 1
            if failed < self.config.flaky_failures:
                return Response(500, OUTAGE_PAGE, HTML)
        empty = symbol == EMPTY_SYMBOL and not req.is_tz_probe
        body = chart_body(self.market, req, now_s, empty=empty)
        if symbol == BAD_JSON_SYMBOL and not req.is_tz_probe:
            body = body[: len(body) // 2]
        return Response(200, body)
