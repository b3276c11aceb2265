"""Canonical bar frames: what a yfinance answer becomes before it is stored.

Intraday bars are keyed by (symbol, interval, ts) with ``ts`` the bar start in UTC and
``session_date`` the New York trading day; daily and weekly bars by (symbol, interval, date)
with raw OHLC, the adjusted close, dividends and splits kept as data.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from stock_pipeline.domain.trading_calendar import NEW_YORK, session_close, session_open

INTRADAY_COLUMNS: dict[str, str] = {
    "symbol": "string",
    "interval": "string",
    "session_date": "object",
    "ts": "datetime64[ns, UTC]",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "int64",
}

DAILY_COLUMNS: dict[str, str] = {
    "symbol": "string",
    "interval": "string",
    "date": "object",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "adj_close": "float64",
    "volume": "int64",
    "dividends": "float64",
    "stock_splits": "float64",
}

PRICE_COLUMNS = ("open", "high", "low", "close")
_RENAME = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividends",
    "Stock Splits": "stock_splits",
}


def empty_intraday() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in INTRADAY_COLUMNS.items()})


def empty_daily() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DAILY_COLUMNS.items()})


def _renamed(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.rename(columns=_RENAME)
    return frame.dropna(subset=[c for c in PRICE_COLUMNS if c in frame.columns], how="all")


def normalize_intraday(
    raw: pd.DataFrame, symbol: str, interval: str, sessions: list[date]
) -> pd.DataFrame:
    """yfinance intraday history → canonical bars inside the given sessions.

    Drops all-null bars, Yahoo's appended "latest" bar, the zero-volume bar Yahoo adds at an
    early close, and anything outside a regular session; keeps one row per timestamp.
    """
    if raw.empty:
        return empty_intraday()
    frame = _renamed(raw)
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        index = index.tz_localize(NEW_YORK)
    ts = index.tz_convert("UTC")
    session_dates = ts.tz_convert(NEW_YORK).date
    keep = np.zeros(len(frame), dtype=bool)
    for day in sessions:
        opened, closed = pd.Timestamp(session_open(day)), pd.Timestamp(session_close(day))
        keep |= np.asarray((ts >= opened) & (ts < closed))
    out = pd.DataFrame(
        {
            "symbol": symbol,
            "interval": interval,
            "session_date": session_dates,
            "ts": ts,
            "open": frame["open"].to_numpy(dtype="float64"),
            "high": frame["high"].to_numpy(dtype="float64"),
            "low": frame["low"].to_numpy(dtype="float64"),
            "close": frame["close"].to_numpy(dtype="float64"),
            "volume": frame["volume"].fillna(0).to_numpy(dtype="int64"),
        }
    )[keep]
    out = out.drop_duplicates(subset=["ts"], keep="last").sort_values("ts")
    return out.astype(INTRADAY_COLUMNS).reset_index(drop=True)


def normalize_daily(raw: pd.DataFrame, symbol: str, interval: str) -> pd.DataFrame:
    """yfinance daily/weekly history (auto_adjust=False) → canonical rows, one per date."""
    if raw.empty:
        return empty_daily()
    frame = _renamed(raw)
    index = pd.DatetimeIndex(frame.index)
    dates = index.tz_localize(None).date if index.tz is not None else index.date
    out = pd.DataFrame(
        {
            "symbol": symbol,
            "interval": interval,
            "date": dates,
            "open": frame["open"].to_numpy(dtype="float64"),
            "high": frame["high"].to_numpy(dtype="float64"),
            "low": frame["low"].to_numpy(dtype="float64"),
            "close": frame["close"].to_numpy(dtype="float64"),
            "adj_close": frame.get("adj_close", frame["close"]).to_numpy(dtype="float64"),
            "volume": frame["volume"].fillna(0).to_numpy(dtype="int64"),
            "dividends": frame.get("dividends", pd.Series(0.0, index=frame.index))
            .fillna(0)
            .to_numpy(dtype="float64"),
            "stock_splits": frame.get("stock_splits", pd.Series(0.0, index=frame.index))
            .fillna(0)
            .to_numpy(dtype="float64"),
        }
    )
    out = out.drop_duplicates(subset=["date"], keep="last").sort_values("date")
    return out.astype(DAILY_COLUMNS).reset_index(drop=True)
