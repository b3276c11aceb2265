"""Bars as Yahoo would serve them at the fake's ``now``: intraday, daily and longer.

Adds what depends on the clock to the pure generator: only bars that have started exist,
the current session is partial, and prices before a split known at ``now`` are divided by
it. Closed sessions' daily bars are cached (bounded).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from stock_pipeline.domain.session_rules import NO_TRADE_BAR_MINUTES
from stock_pipeline.domain.trading_calendar import NEW_YORK
from stock_pipeline.fake_yahoo.config import FakeYahooConfig, SplitEvent
from stock_pipeline.fake_yahoo.market import aggregate, daily_model, generate_minutes, session_table
from stock_pipeline.fake_yahoo.profiles import SECONDS_PER_DAY, profile_for
from stock_pipeline.fake_yahoo.rng import FloatArray, IntArray, hash_units

BoolArray = npt.NDArray[np.bool_]
EPOCH = date(1970, 1, 1)
_NULL_SALT = 0x4E554C4C


def served(values: FloatArray, known: FloatArray) -> FloatArray:
    """Raw prices on the share basis known at ``now``, as float32 like Yahoo's."""
    return np.asarray((values / known).astype(np.float32), dtype=np.float64)


def served_volume(volume: IntArray, known: FloatArray) -> IntArray:
    return np.asarray(np.round(volume * known), dtype=np.int64)


def available_minutes(opens_s: IntArray, minutes: IntArray, now_s: float) -> IntArray:
    """Minutes of each session that have started before ``now``."""
    started = np.ceil((now_s - opens_s) / 60.0)
    return np.asarray(np.clip(started, 0, minutes), dtype=np.int64)


@dataclass(frozen=True)
class Bars:
    """Served bars, chronological; ``session`` is the (last) session of each bar."""

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: IntArray
    session: IntArray
    null: BoolArray

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def empty() -> Bars:
        f = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        return Bars(i, f, f, f, f, i, i, np.zeros(0, dtype=bool))


class PriceHistory:
    """Served bars for one fake server's configuration (splits, null bars)."""

    CACHE_SIZE = 400_000

    def __init__(self, config: FakeYahooConfig) -> None:
        self.config = config
        self._cache: OrderedDict[tuple[str, int], tuple[float, float, float, float, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def first_session(self, symbol: str) -> int:
        day = profile_for(symbol).first_trade_day
        return session_table().first_open_at_or_after(day * SECONDS_PER_DAY)

    def split_sessions(self, symbol: str) -> list[tuple[int, SplitEvent]]:
        days = session_table().days
        return [
            (int(np.searchsorted(days, (ev.day - EPOCH).days)), ev)
            for ev in self.config.splits.get(symbol.upper(), ())
        ]

    def factors(
        self, symbol: str, sessions: IntArray, now_s: float
    ) -> tuple[FloatArray, FloatArray]:
        """Per session: all later splits (``raw``) and those known at ``now`` (``known``)."""
        raw = np.ones(len(sessions))
        known = np.ones(len(sessions))
        opens = session_table().opens
        for index, ev in self.split_sessions(symbol):
            before = sessions < index
            raw = np.where(before, raw * ev.ratio, raw)
            if index < len(opens) and opens[index] <= now_s:
                known = np.where(before, known * ev.ratio, known)
        return raw, known

    def intraday(self, symbol: str, p1: float, p2: float, step: int, now_s: float) -> Bars:
        """Bars of ``step`` minutes starting in [p1, p2) that have started by ``now``."""
        tab = session_table()
        lo = max(int(np.searchsorted(tab.closes, p1, side="right")), self.first_session(symbol))
        hi = int(np.searchsorted(tab.opens, min(p2, now_s), side="left"))
        sessions = np.arange(lo, hi, dtype=np.int64)
        if not len(sessions):
            return Bars.empty()
        profile = profile_for(symbol)
        raw, known = self.factors(symbol, sessions, now_s)
        block = generate_minutes([profile] * len(sessions), sessions, raw)
        agg = aggregate(block, step, available_minutes(block.opens_s, block.minutes, now_s))
        ts = block.opens_s[:, None] + agg.start_offset[None, :] * 60
        keep = agg.valid & (ts >= p1) & (ts < p2)
        rows = np.broadcast_to(np.arange(len(sessions))[:, None], ts.shape)[keep]
        session_end = (block.opens_s + block.minutes * 60)[:, None]
        ends = np.minimum(ts + step * 60, session_end)[keep]
        kn = known[rows]
        ts_kept = ts[keep]
        null = np.zeros(len(ts_kept), dtype=bool)
        # A bar without a trade is all-null; bars longer than a few minutes always hold one
        # (the domain's tolerance for short sessions rests on it: session_rules).
        if self.config.null_bar_every > 0 and step <= NO_TRADE_BAR_MINUTES:
            u = hash_units(profile.seed, _NULL_SALT + step, ts_kept)
            null = (u < 1.0 / self.config.null_bar_every) & (ends <= now_s)
        served_bars = Bars(
            ts=ts_kept,
            open=served(agg.open[keep], kn),
            high=served(agg.high[keep], kn),
            low=served(agg.low[keep], kn),
            close=served(agg.close[keep], kn),
            volume=served_volume(agg.volume[keep], kn),
            session=sessions[rows],
            null=null,
        )
        closes = (block.opens_s + block.minutes * 60)[rows]
        return self._truncated(symbol, served_bars, closes)

    def _truncated(self, symbol: str, bars: Bars, ends: IntArray) -> Bars:
        """Drop the bars ``truncated_sessions`` says Yahoo lacks (the end of a session)."""
        cuts = {
            day: minutes
            for (sym, day), minutes in dict(self.config.truncated_sessions).items()
            if sym.upper() == symbol.upper()
        }
        if not cuts:
            return bars
        days = session_table().days
        drop = np.zeros(len(bars), dtype=bool)
        for day, minutes in cuts.items():
            index = int(np.searchsorted(days, (day - EPOCH).days))
            drop |= (bars.session == index) & (bars.ts >= ends - minutes * 60)
        if not drop.any():
            return bars
        keep = ~drop
        return Bars(
            ts=bars.ts[keep],
            open=bars.open[keep],
            high=bars.high[keep],
            low=bars.low[keep],
            close=bars.close[keep],
            volume=bars.volume[keep],
            session=bars.session[keep],
            null=bars.null[keep],
        )

    def daily_raw(
        self, symbol: str, sessions: IntArray, now_s: float
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
        """Raw (traded-share) daily OHLCV of sessions that have started; partial today."""
        tab = session_table()
        n = len(sessions)
        out = np.zeros((4, n))
        vol = np.zeros(n, dtype=np.int64)
        closed = tab.closes[sessions] <= now_s
        sym = symbol.upper()
        missing: list[int] = []
        with self._lock:
            for k, s in enumerate(sessions.tolist()):
                hit = self._cache.get((sym, s)) if closed[k] else None
                if hit is None:
                    missing.append(k)
                else:
                    out[:, k] = hit[:4]
                    vol[k] = hit[4]
        if missing:
            miss = np.asarray(missing, dtype=np.int64)
            self._fill(sym, sessions, miss, now_s, out, vol)
            with self._lock:
                for k in miss[closed[miss]].tolist():
                    o, h, low, c = out[:, k].tolist()
                    self._cache[(sym, int(sessions[k]))] = (o, h, low, c, int(vol[k]))
                while len(self._cache) > self.CACHE_SIZE:
                    self._cache.popitem(last=False)
        return out[0], out[1], out[2], out[3], vol

    def _fill(
        self,
        sym: str,
        sessions: IntArray,
        miss: IntArray,
        now_s: float,
        out: FloatArray,
        vol: IntArray,
    ) -> None:
        tab = session_table()
        profile = profile_for(sym)
        detail_day = (self.config.minute_detail_since - EPOCH).days
        detail = tab.days[sessions[miss]] >= detail_day
        for use_minutes in (True, False):
            rows = miss[detail == use_minutes]
            if not len(rows):
                continue
            idx = sessions[rows]
            raw, _ = self.factors(sym, idx, now_s)
            if use_minutes:
                block = generate_minutes([profile] * len(idx), idx, raw)
                avail = available_minutes(block.opens_s, block.minutes, now_s)
                agg = aggregate(block, block.open.shape[1], avail)
                values = (agg.open[:, 0], agg.high[:, 0], agg.low[:, 0], agg.close[:, 0])
                vol[rows] = agg.volume[:, 0]
            else:
                o, h, low, c, v = daily_model([profile] * len(idx), idx, raw)
                values = (o, h, low, c)
                vol[rows] = v
            for j, column in enumerate(values):
                out[j, rows] = column

    def bad_print(self, symbol: str, sessions: IntArray) -> FloatArray:
        """Per session: the factor its daily prices are misprinted by (1.0: right)."""
        days = [(d - EPOCH).days for d in self.config.bad_prints.get(symbol.upper(), ())]
        wrong = np.isin(session_table().days[sessions], np.asarray(days, dtype=np.int64))
        return np.where(wrong, self.config.bad_print_factor, 1.0)

    def daily_bars(self, symbol: str, sessions: IntArray, now_s: float) -> Bars:
        o, h, low, c, v = self.daily_raw(symbol, sessions, now_s)
        _, known = self.factors(symbol, sessions, now_s)
        basis = known / self.bad_print(symbol, sessions)  # a misprint scales prices only
        tab = session_table()
        return Bars(
            ts=tab.opens[sessions],
            open=served(o, basis),
            high=served(h, basis),
            low=served(low, basis),
            close=served(c, basis),
            volume=served_volume(v, known),
            session=sessions,
            null=np.zeros(len(sessions), dtype=bool),
        )

    def started_sessions(self, symbol: str, p1: float, p2: float, now_s: float) -> IntArray:
        """Sessions opening in [p1, p2) that have opened by ``now`` and after listing."""
        tab = session_table()
        lo = max(tab.first_open_at_or_after(p1), self.first_session(symbol))
        hi = int(np.searchsorted(tab.opens, min(p2, now_s), side="left"))
        return np.arange(lo, max(lo, hi), dtype=np.int64)

    def daily(self, symbol: str, p1: float, p2: float, now_s: float) -> Bars:
        return self.daily_bars(symbol, self.started_sessions(symbol, p1, p2, now_s), now_s)

    def periodic(self, symbol: str, p1: float, p2: float, interval: str, now_s: float) -> Bars:
        """1wk/1mo/3mo/5d bars overlapping [p1, p2), each over all its started sessions."""
        tab = session_table()
        chosen = self.started_sessions(symbol, p1, p2, now_s)
        if not len(chosen):
            return Bars.empty()
        if interval == "5d":
            sessions = chosen
            keys = (sessions - sessions[0]) // 5
        else:
            first = self.first_session(symbol)
            last_started = tab.latest_started(now_s)
            lo = max(first, int(chosen[0]) - 70)
            hi = min(last_started, int(chosen[-1]) + 70)
            window = np.arange(lo, hi + 1, dtype=np.int64)
            window_keys = _group_keys(interval, tab.days[window])
            wanted = (window_keys >= _group_keys(interval, tab.days[chosen[:1]])[0]) & (
                window_keys <= _group_keys(interval, tab.days[chosen[-1:]])[0]
            )
            sessions = window[wanted]
            keys = window_keys[wanted]
        day = self.daily_bars(symbol, sessions, now_s)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)] - 1
        if interval == "1wk":
            ts = np.array([_open_time(int(k)) for k in keys[starts]], dtype=np.int64)
        elif interval in ("1mo", "3mo"):
            months = keys[starts] * (3 if interval == "3mo" else 1)
            first_days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
            ts = np.array([_open_time(int(d)) for d in first_days], dtype=np.int64)
        else:
            ts = day.ts[starts]
        return Bars(
            ts=ts,
            open=day.open[starts],
            high=np.maximum.reduceat(day.high, starts),
            low=np.minimum.reduceat(day.low, starts),
            close=day.close[ends],
            volume=np.add.reduceat(day.volume, starts),
            session=day.session[ends],
            null=np.zeros(len(starts), dtype=bool),
        )


def _group_keys(interval: str, days: IntArray) -> IntArray:
    """Week (its Monday), month or quarter of each session day (days since epoch)."""
    if interval == "1wk":
        return np.asarray(days - (days + 3) % 7, dtype=np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if interval == "3mo":
        return np.asarray(months // 3, dtype=np.int64)
    return np.asarray(months, dtype=np.int64)


def _open_time(day: int) -> int:
    """09:30 New York on a day (holiday or not): Yahoo stamps a weekly bar on its Monday
    and a monthly or quarterly bar on the period's first calendar day."""
    return int(datetime.combine(EPOCH + timedelta(days=day), time(9, 30), NEW_YORK).timestamp())
