"""Frames of bars for tests: what the calendar expects, at a flat price."""

from __future__ import annotations

from datetime import date

import pandas as pd

from stock_pipeline.domain.trading_calendar import expected_bar_starts


def bars(symbol: str, day: date, interval: str = "5m", price: float = 100.0) -> pd.DataFrame:
    """A canonical intraday frame with the calendar's bars for one session."""
    starts = expected_bar_starts(day, interval)
    n = len(starts)
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": interval,
            "session_date": [day] * n,
            "ts": starts,
            "open": price,
            "high": price + 1,
            "low": price - 1,
            "close": price + 0.5,
            "volume": 1000,
        }
    )


def daily_row(
    symbol: str, day: date, interval: str = "1d", year: int | None = None
) -> pd.DataFrame:
    """One flat daily (or weekly) bar of ``symbol`` on ``day`` in partition ``year``
    (default: the day's), every price 1.0: for tests about what is stored, not its values."""
    return pd.DataFrame(
        {
            "symbol": [symbol],
            "interval": [interval],
            "date": [day],
            "year": [day.year],
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
            "adj_close": [1.0],
            "volume": [1],
            "dividends": [0.0],
            "stock_splits": [0.0],
        }
    )
