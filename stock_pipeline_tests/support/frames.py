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
