"""Corporate actions and the latest-session view, on top of the served bars.

Dividends known at ``now`` lower ``adjclose`` the way Yahoo computes it (close times the
product of 1 - dividend / previous close over later ex-dates); the snapshot of the latest
session is what quotes and chart meta report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from stock_pipeline.fake_yahoo.bars import EPOCH, Bars, PriceHistory, available_minutes
from stock_pipeline.fake_yahoo.market import session_table
from stock_pipeline.fake_yahoo.profiles import profile_for, row_levels
from stock_pipeline.fake_yahoo.rng import FloatArray


@dataclass(frozen=True)
class Dividend:
    session: int
    ts: int  # the ex-date session's open, as Yahoo stamps events
    amount: float  # per share, on the basis known at ``now``
    ratio: float  # amount / previous close: the adjclose step


@dataclass(frozen=True)
class Snapshot:
    """The latest session at ``now``: what quotes and chart meta report."""

    session: int
    price: float
    open: float
    high: float
    low: float
    volume: int
    previous_close: float | None
    market_time: int  # regularMarketTime
    bar_time: int  # timestamp of Yahoo's appended "latest" bar
    closed: bool


class Market(PriceHistory):
    """Everything the endpoints need to know about prices at a given ``now``."""

    def dividends(self, symbol: str, lo: int, hi: int, now_s: float) -> list[Dividend]:
        """Ex-dividend sessions in [lo, hi) that have opened by ``now``."""
        profile = profile_for(symbol)
        tab = session_table()
        hi = min(hi, tab.latest_started(now_s) + 1)
        lo = max(lo, self.first_session(symbol) + 60)
        if profile.dividend_yield <= 0 or lo >= hi:
            return []
        first_year = date.fromordinal(EPOCH.toordinal() + int(tab.days[lo])).year
        last_year = date.fromordinal(EPOCH.toordinal() + int(tab.days[hi - 1])).year
        found: list[int] = []
        for year in range(first_year, last_year + 1):
            for month in range(profile.dividend_month, 13, 3):
                target = (date(year, month, profile.dividend_day) - EPOCH).days
                ex = int(np.searchsorted(tab.days, target))
                if lo <= ex < hi and ex not in found:
                    found.append(ex)
        if not found:
            return []
        ex_idx = np.asarray(found, dtype=np.int64)
        raw, known = self.factors(symbol, ex_idx, now_s)
        prev_raw, _ = self.factors(symbol, ex_idx - 1, now_s)
        level = row_levels([profile] * len(ex_idx), tab.opens[ex_idx].astype(np.float64))
        amount_raw = np.round(level * profile.dividend_yield / 4 * raw, 2)
        prev_close = self.daily_raw(symbol, ex_idx - 1, now_s)[3]
        ratio = (amount_raw / raw) / (prev_close / prev_raw)
        return [
            Dividend(int(s), int(tab.opens[s]), round(float(a / k), 6), float(r))
            for s, a, k, r in zip(ex_idx, amount_raw, known, ratio, strict=True)
        ]

    def adjclose(self, symbol: str, bars: Bars, now_s: float) -> FloatArray:
        """Close times the product of (1 - dividend/previous close) over later dividends."""
        if not len(bars):
            return np.zeros(0)
        later = self.dividends(symbol, int(bars.session.min()) + 1, 1 << 30, now_s)
        factor = np.ones(len(bars))
        for div in later:
            factor = np.where(bars.session < div.session, factor * (1.0 - div.ratio), factor)
        return np.asarray((bars.close * factor).astype(np.float32), dtype=np.float64)

    def snapshot(self, symbol: str, now_s: float) -> Snapshot | None:
        """The latest session that has opened by ``now`` (None before listing)."""
        tab = session_table()
        latest = tab.latest_started(now_s)
        first = self.first_session(symbol)
        if latest < first:
            return None
        sessions = np.arange(max(first, latest - 1), latest + 1, dtype=np.int64)
        day = self.daily_bars(symbol, sessions, now_s)
        closed = bool(tab.closes[latest] <= now_s)
        minutes = int((tab.closes[latest] - tab.opens[latest]) // 60)
        avail = int(
            available_minutes(tab.opens[latest : latest + 1], np.array([minutes]), now_s)[0]
        )
        return Snapshot(
            session=latest,
            price=float(day.close[-1]),
            open=float(day.open[-1]),
            high=float(day.high[-1]),
            low=float(day.low[-1]),
            volume=int(day.volume[-1]),
            previous_close=float(day.close[0]) if len(day) > 1 else None,
            market_time=int(tab.closes[latest]) + 1 if closed else int(now_s),
            bar_time=int(tab.closes[latest])
            if closed
            else int(tab.opens[latest]) + (avail - 1) * 60,
            closed=closed,
        )

    def approximate_stats(self, symbol: str, now_s: float) -> dict[str, float]:
        """52-week range and moving averages from the smooth level (cheap, approximate)."""
        profile = profile_for(symbol)
        tab = session_table()
        latest = tab.latest_started(now_s)
        lo = max(self.first_session(symbol), latest - 251)
        sessions = np.arange(lo, max(lo, latest) + 1, dtype=np.int64)
        raw, known = self.factors(symbol, sessions, now_s)
        level = row_levels([profile] * len(sessions), tab.closes[sessions].astype(np.float64))
        level = level * raw / known
        return {
            "fiftyTwoWeekHigh": round(float(level.max() * (1 + profile.daily_vol)), 2),
            "fiftyTwoWeekLow": round(float(level.min() * (1 - profile.daily_vol)), 2),
            "fiftyDayAverage": round(float(level[-50:].mean()), 4),
            "twoHundredDayAverage": round(float(level[-200:].mean()), 4),
            "averageVolume": float(int(profile.volume_level)),
        }
