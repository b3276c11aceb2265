"""The HTTP session yfinance uses: rate limited, metered, optionally redirected.

yfinance accepts a curl_cffi ``Session``; this subclass sees every request yfinance makes.
It waits for the rate limiter (whose rate climbs while Yahoo answers and halves on a 429,
``limiter``) and the host's circuit breaker (``circuit``: no request
goes out while Yahoo is answering 429, and a 429 ends the call instead of letting yfinance
fetch a new cookie and crumb), counts the request by kind (and into any meter open on the
calling thread), remembers the answer's status for error classification, and, when a base
URL is set (``STOCK_PIPELINE_YAHOO_URL``), sends requests for Yahoo's hosts to that origin
with path and query unchanged.
"""

from __future__ import annotations

import http.cookiejar
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from curl_cffi import requests as curl_requests

from stock_pipeline.domain import stopping
from stock_pipeline.yahoo.circuit import RATE_LIMITED, HostCircuit, RateLimitedResponse
from stock_pipeline.yahoo.limiter import RateLimiter

YAHOO_COOKIE_DOMAIN = ".yahoo.com"


# The chart query of a corporate-actions refresh (``YahooClient.corporate_actions``):
# every event of a symbol, on monthly bars no price fetch asks for.
ACTIONS_QUERY = {"range": "max", "interval": "1mo"}


def chart_kind(query: Any) -> str:
    """What a chart request is for, from its query: ``timezone`` (yfinance's probe,
    ``range=1d&interval=1d``, made once per symbol and cached on disk), ``actions`` (a
    corporate-actions refresh, ``ACTIONS_QUERY``) or ``chart`` (price bars)."""
    found = dict(query or {})
    if found.get("range") == "1d" and found.get("interval") == "1d":
        return "timezone"
    if all(found.get(k) == v for k, v in ACTIONS_QUERY.items()):
        return "actions"
    return "chart"


def request_kind(url: str, params: Any = None) -> str:
    """What a Yahoo request is for, from its URL: the unit requests are counted in.

    Chart requests are told apart by ``chart_kind``: only ``chart`` fetches price bars;
    yfinance's timezone probe and the corporate-actions refresh are counted apart.
    """
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    if host.startswith("fc.") or (path in ("", "/") and not host.startswith("query")):
        return "cookie"
    if path.endswith("/getcrumb"):
        return "crumb"
    if "consent" in host or path in ("/consent", "/copyConsent", "/v2/collectConsent"):
        return "consent"
    if "/finance/chart/" in path:
        return chart_kind(params)
    if "/finance/quoteSummary/" in path:
        return "quote_summary"
    if "/finance/quote" in path:
        return "quote"
    return "other"


@dataclass(eq=False)
class RequestMeter:
    """Requests made by one thread while the meter is open, by kind."""

    counts: Counter[str] = field(default_factory=Counter)
    statuses: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def price_requests(self) -> int:
        """Chart requests that fetch bars (timezone probes and actions refreshes apart)."""
        return self.counts["chart"]

    def add(self, other: RequestMeter) -> None:
        self.counts.update(other.counts)


class YahooSession(curl_requests.Session):
    """The one session handed to yfinance (it keeps a process-wide singleton)."""

    def __init__(
        self,
        base_url: str | None = None,
        requests_per_second: float | None = None,
        max_requests_per_second: float | None = None,
    ):
        super().__init__(impersonate="chrome")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.limiter = RateLimiter(requests_per_second, max_requests_per_second)
        self.circuit = HostCircuit()
        self.totals: Counter[str] = Counter()
        self._totals_lock = threading.Lock()
        self._local = threading.local()

    def set_rate(
        self, requests_per_second: float | None, max_requests_per_second: float | None = None
    ) -> None:
        """Change the rate settings; unchanged ones keep the limiter: the last request's time,
        and the rate learned so far (a later run of the process starts where it got to)."""
        limiter = self.limiter
        if (requests_per_second, max_requests_per_second) != (
            limiter.requests_per_second,
            limiter.max_requests_per_second,
        ):
            self.limiter = RateLimiter(requests_per_second, max_requests_per_second)

    @contextmanager
    def meter(self) -> Iterator[RequestMeter]:
        """Count the requests this thread makes inside the block."""
        meters: list[RequestMeter] = self._meters()
        meter = RequestMeter()
        meters.append(meter)
        try:
            yield meter
        finally:
            meters.remove(meter)

    def _meters(self) -> list[RequestMeter]:
        if not hasattr(self._local, "meters"):
            self._local.meters = []
        meters: list[RequestMeter] = self._local.meters
        return meters

    def _target(self, url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not self.base_url or not (host == "yahoo.com" or host.endswith(".yahoo.com")):
            return url, {}
        base = urlsplit(self.base_url)
        target = urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))
        return target, {"X-Forwarded-Host": host}

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        kind = request_kind(url, kwargs.get("params"))
        target, extra_headers = self._target(url)
        if extra_headers:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **extra_headers}
        stopping.check()
        self.circuit.wait_turn(stopping.sleep)
        limiter = self.limiter  # the one that let it go hears its answer
        try:
            turn = limiter.acquire()
        except BaseException:
            self.circuit.record(None)  # not sent: another thread may probe
            raise
        with self._totals_lock:
            self.totals[kind] += 1
        for meter in self._meters():
            meter.counts[kind] += 1
        try:
            response = super().request(method, target, *args, **kwargs)
        except Exception:
            self._record(kind, 0)
            raise
        status = int(response.status_code)
        self._record(kind, status)
        limiter.record(turn, status)
        if status == RATE_LIMITED:
            raise RateLimitedResponse(kind)
        if extra_headers and kind == "cookie":
            self._mirror_cookies_to_yahoo_domain()
        return response

    def _record(self, kind: str, status: int) -> None:
        self.circuit.record(status)
        for meter in self._meters():
            meter.statuses.append((kind, status))

    def _mirror_cookies_to_yahoo_domain(self) -> None:
        """Keep the mirror's cookie under Yahoo's domain too, as the real host would set it.

        yfinance caches and reuses only cookies whose domain names Yahoo; without this it
        fetches the cookie again before every request when redirected.
        """
        jar = self.cookies.jar
        for cookie in list(jar):
            if "yahoo" in cookie.domain:
                continue
            jar.set_cookie(
                http.cookiejar.Cookie(
                    version=0,
                    name=cookie.name,
                    value=cookie.value,
                    port=None,
                    port_specified=False,
                    domain=YAHOO_COOKIE_DOMAIN,
                    domain_specified=True,
                    domain_initial_dot=True,
                    path=cookie.path or "/",
                    path_specified=True,
                    secure=False,
                    expires=cookie.expires or int(time.time()) + 365 * 86400,
                    discard=False,
                    comment=None,
                    comment_url=None,
                    rest={},
                )
            )
