"""Cookie, crumb and consent, as yfinance's two cookie strategies use them."""

from __future__ import annotations

import re

import pytest
import requests
from bs4 import BeautifulSoup

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline_tests.support.fake_yahoo_http import (
    get,
)


def test_cookie_crumb_and_consent_flow(fake_yahoo: FakeYahoo) -> None:
    session = requests.Session()
    cookie = session.get(fake_yahoo.url + "/")
    assert cookie.status_code == 404
    header = cookie.headers["Set-Cookie"]
    assert re.fullmatch(r"A3=[^;]+; Expires=[^;]+ GMT; Path=/", header)
    assert "A3" in session.cookies
    crumb = session.get(fake_yahoo.url + "/v1/test/getcrumb")
    assert crumb.status_code == 200 and re.fullmatch(r"[A-Za-z0-9./]{11}", crumb.text)
    page = session.get(fake_yahoo.url + "/consent")
    soup = BeautifulSoup(page.content, "html.parser")
    csrf = soup.find("input", attrs={"name": "csrfToken"})
    session_id = soup.find("input", attrs={"name": "sessionId"})
    assert csrf is not None and session_id is not None
    form = {"csrfToken": csrf["value"], "sessionId": session_id["value"], "agree": "agree"}
    posted = session.post(
        f"{fake_yahoo.url}/v2/collectConsent?sessionId={session_id['value']}", data=form
    )
    assert posted.status_code == 200
    assert (
        session.get(f"{fake_yahoo.url}/copyConsent?sessionId={session_id['value']}").status_code
        == 200
    )
    assert fake_yahoo.requests["consent"] == 3


@pytest.mark.fake_yahoo(require_crumb=True)
def test_quote_endpoints_can_require_a_crumb(fake_yahoo: FakeYahoo) -> None:
    assert get(fake_yahoo, "/v7/finance/quote", symbols="AAPL").status_code == 401
    crumb = get(fake_yahoo, "/v1/test/getcrumb").text
    assert get(fake_yahoo, "/v7/finance/quote", symbols="AAPL", crumb=crumb).status_code == 200
