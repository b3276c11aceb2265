"""The fake Yahoo Finance HTTP server: stdlib ``ThreadingHTTPServer`` in a background thread.

``FakeYahoo(config).start()`` binds (port 0 picks a free port), serves until ``stop()``;
``url`` is its origin. It is also a context manager. ``serve()`` runs one in the
foreground for the ``stock-pipeline fake-yahoo`` command.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from stock_pipeline.fake_yahoo.app import FakeYahooApp
from stock_pipeline.fake_yahoo.config import FakeYahooConfig, RecordingMatch, RequestRecord
from stock_pipeline.fake_yahoo.history import Market
from stock_pipeline.fake_yahoo.responses import Response

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler that delegates every request to the app."""

    protocol_version = "HTTP/1.1"
    server_version = "ATS"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end after this
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        response: Response = self.server.app.handle(
            method, parts.path or "/", parts.query, self.headers
        )
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake Yahoo: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: FakeYahooApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """End keep-alive connections so their threads do not outlive the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class FakeYahoo:
    """A running fake Yahoo: the server plus access to its counters and settings."""

    def __init__(
        self, config: FakeYahooConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or FakeYahooConfig()
        self.app = FakeYahooApp(self.config)
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeYahoo is not running: call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeYahoo:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self.app)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-yahoo-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("fake Yahoo listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeYahoo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Settings and data -------------------------------------------------------------------
    @property
    def market(self) -> Market:
        return self.app.market

    def set_now(self, now: datetime | None) -> None:
        """Move the fake's clock (``None``: follow the real clock)."""
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.config.now = now

    def add_recording(
        self,
        symbol: str,
        body: Any,
        status: int = 200,
        match: RecordingMatch = None,
        times: int | None = None,
    ) -> None:
        """Serve a recorded body for ``symbol``'s chart requests accepted by ``match``.

        ``match``: a callable on the query parameters, a dict of parameters that must be
        equal, or None (every request). ``times``: how often (None: always). The latest
        added recording is tried first.
        """
        self.app.add_recording(symbol, body, status, match, times)

    def clear_recordings(self) -> None:
        self.app.clear_recordings()

    # Counters ----------------------------------------------------------------------------
    @property
    def requests(self) -> Counter[str]:
        """Requests per kind (cookie, crumb, consent, chart, quote, quote_summary,
        timeseries, other)."""
        return Counter(self.app.requests)

    @property
    def requests_by_symbol(self) -> Counter[tuple[str, str]]:
        """Requests per (kind, symbol); a v7 quote counts once for each symbol it names."""
        return Counter(self.app.requests_by_symbol)

    @property
    def status_counts(self) -> Counter[int]:
        return Counter(self.app.status_counts)

    @property
    def rate_limited(self) -> int:
        """How many 429 answers were sent (rate limit and ``ZZRATELIMIT``)."""
        return self.app.rate_limited

    @property
    def log(self) -> list[RequestRecord]:
        return list(self.app.log)

    def reset_counters(self) -> None:
        self.app.reset_counters()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    announce: Callable[[str], None] | None = print,
    stop_event: threading.Event | None = None,
    **settings: Any,
) -> None:
    """Run a fake Yahoo in the foreground until interrupted (Ctrl-C) or ``stop_event`` is set.

    ``settings`` are ``FakeYahooConfig`` fields; strings are accepted (``now`` as ISO
    8601, ``unknown_symbols`` comma-separated), as a command line passes them.
    """
    fake = FakeYahoo(FakeYahooConfig.from_settings(**settings), host=host, port=port).start()
    clock = fake.config.now.isoformat() if fake.config.now else "the real clock"
    banner = (
        f"Fake Yahoo Finance serving on {fake.url} (now = {clock}). "
        f"Point the pipeline at it with STOCK_PIPELINE_YAHOO_URL={fake.url}. Ctrl-C stops it."
    )
    if announce is not None:
        announce(banner)
    logger.info(banner)
    stop = stop_event or threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
