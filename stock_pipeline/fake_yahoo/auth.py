"""Yahoo's cookie, crumb and consent endpoints, as yfinance's two cookie strategies use them.

``GET /`` (fc.yahoo.com) answers 404 with an ``A3`` cookie, ``/v1/test/getcrumb`` a crumb;
after any answer >= 400 yfinance switches to the "csrf" strategy: ``GET /consent`` (a form
with ``csrfToken`` and ``sessionId``), ``POST /v2/collectConsent``, ``GET /copyConsent``.
"""

from __future__ import annotations

import secrets
import threading
import time
from email.utils import formatdate

from stock_pipeline.fake_yahoo.responses import HTML, Response
from stock_pipeline.fake_yahoo.rng import stable_hash


class YahooAuth:
    """Issues cookies and crumbs, and remembers the crumbs it issued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._crumbs: set[str] = set()

    def issued(self, crumb: str | None) -> bool:
        with self._lock:
            return crumb in self._crumbs

    def cookie(self) -> tuple[str, str]:
        """A fresh ``A3`` Set-Cookie header, without Domain so it sticks to any host."""
        token = f"d=AQABBF{secrets.token_hex(16).upper()}&S=AQAAA{secrets.token_hex(8)}"
        expires = formatdate(time.time() + 365 * 86_400, usegmt=True)  # real clock: the jar's
        return "Set-Cookie", f"A3={token}; Expires={expires}; Path=/"

    def crumb(self, cookie_header: str) -> str:
        """An 11-character crumb, the same for the same cookie."""
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./"
        value = stable_hash(cookie_header) if "A3=" in cookie_header else secrets.randbits(64)
        crumb = "".join(alphabet[(value >> (6 * i)) & 63] for i in range(11))
        with self._lock:
            self._crumbs.add(crumb)
        return crumb

    def consent(self, method: str, path: str) -> Response:
        """The consent form, then plain 200s (copyConsent sets the cookie, as Yahoo does)."""
        if path == "/consent" and method == "GET":
            session_id = secrets.token_hex(8)
            csrf = secrets.token_urlsafe(12)
            page = (
                "<!DOCTYPE html><html><head><title>Yahoo is part of the Yahoo family of brands"
                '</title></head><body><form method="post" class="consent-form" '
                f'action="/v2/collectConsent?sessionId={session_id}">'
                f'<input type="hidden" name="csrfToken" value="{csrf}"/>'
                f'<input type="hidden" name="sessionId" value="{session_id}"/>'
                '<input type="hidden" name="originalDoneUrl" value="https://finance.yahoo.com/"/>'
                '<input type="hidden" name="namespace" value="yahoo"/>'
                '<button type="submit" name="agree" value="agree">Accept all</button>'
                "</form></body></html>"
            )
            return Response(200, page.encode(), HTML)
        if path == "/copyConsent":
            return Response(200, b"<html><body>OK</body></html>", HTML, [self.cookie()])
        return Response(200, b"<html><body>Consent recorded</body></html>", HTML)
