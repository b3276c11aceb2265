"""Asking the fake Yahoo over real HTTP, as yfinance does, and reading its chart answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import requests

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
)
from stock_pipeline.fake_yahoo import FakeYahoo

# Friday 2026-11-27 17:00 New York: the early close (13:00) of the day after Thanksgiving.
BLACK_FRIDAY_EVENING = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


HTTP = requests.Session()


def ny(day: date, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).timestamp())


def get(fake: FakeYahoo, path: str, **params: Any) -> requests.Response:
    return HTTP.get(fake.url + path, params=params, timeout=30)


def chart(fake: FakeYahoo, symbol: str, **params: Any) -> dict[str, Any]:
    response = get(fake, f"/v8/finance/chart/{symbol}", **params)
    assert response.status_code == 200, response.text[:300]
    result: dict[str, Any] = response.json()["chart"]["result"][0]
    return result


def day_chart(
    fake: FakeYahoo, symbol: str, day: date, interval: str, **extra: Any
) -> dict[str, Any]:
    """One New York calendar day of bars, asked the way yfinance asks."""
    return chart(
        fake,
        symbol,
        period1=ny(day),
        period2=ny(day + timedelta(days=1)),
        interval=interval,
        includePrePost="False",
        events="div,splits,capitalGains",
        **extra,
    )


def frame(result: dict[str, Any]) -> pd.DataFrame:
    quote = result["indicators"]["quote"][0]
    df = pd.DataFrame(quote, index=pd.to_datetime(result.get("timestamp", []), unit="s", utc=True))
    if "adjclose" in result["indicators"]:
        df["adjclose"] = result["indicators"]["adjclose"][0]["adjclose"]
    return df


def regular(result: dict[str, Any]) -> pd.DataFrame:
    """Bars inside the listed regular trading periods (what yfinance keeps)."""
    df = frame(result)
    periods = [p[0] for p in result["meta"]["tradingPeriods"]]
    inside = [any(p["start"] <= ts.timestamp() < p["end"] for p in periods) for ts in df.index]
    return df[inside]
