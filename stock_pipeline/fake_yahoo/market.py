"""Synthetic, deterministic market data: one-minute paths per (symbol, session), aggregated.

Nothing here knows about HTTP. Every random number comes from a counter-based hash of
(symbol, session date, minute), so any session can be generated alone, in any batch, and
always gives the same values: a bar is the same whichever request asks for it. The day's
price level is a smooth function of symbol and time (not a cumulative walk), and each
session is a Brownian bridge from its open to a close target near that level.

Prices are generated on today's share basis, then expressed in the shares that traded
that day (``raw_factor``: the product of every later split) and rounded to cents there,
as real quotes are. Callers divide by the splits already known at their ``now``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stock_pipeline.domain.trading_calendar import nyse
from stock_pipeline.fake_yahoo.profiles import SymbolProfile, row_levels
from stock_pipeline.fake_yahoo.rng import (
    GOLDEN,
    STREAM_DAY,
    STREAM_WICKS,
    FloatArray,
    IntArray,
    fields,
    mix64,
    unit,
)


@dataclass(frozen=True)
class SessionTable:
    """NYSE sessions as arrays (from the project calendar), for vectorised lookups."""

    days: IntArray  # session date, days since 1970-01-01
    opens: IntArray  # epoch seconds (UTC)
    closes: IntArray

    def first_open_at_or_after(self, epoch_s: float) -> int:
        return int(np.searchsorted(self.opens, epoch_s, side="left"))

    def index_of_first_day_at_or_after(self, day_number: int) -> int:
        return int(np.searchsorted(self.days, day_number, side="left"))

    def index_of_day(self, day_number: int) -> int | None:
        i = int(np.searchsorted(self.days, day_number))
        return i if i < len(self.days) and int(self.days[i]) == day_number else None

    def latest_started(self, epoch_s: float) -> int:
        """Index of the last session that opened strictly before ``epoch_s`` (-1: none)."""
        return int(np.searchsorted(self.opens, epoch_s, side="left")) - 1


@functools.cache
def session_table() -> SessionTable:
    cal = nyse()
    days = cal.sessions.values.astype("datetime64[D]").astype(np.int64)
    opens = cal.opens.values.astype("datetime64[s]").astype(np.int64)
    closes = cal.closes.values.astype("datetime64[s]").astype(np.int64)
    return SessionTable(days=days, opens=opens, closes=closes)


@dataclass(frozen=True)
class MinuteBlock:
    """One-minute bars for a batch of (symbol, session) rows, padded to a common width.

    Prices are in the shares traded that day, rounded to cents; padding is NaN / 0.
    """

    sessions: IntArray  # session index per row
    opens_s: IntArray  # session open, epoch seconds
    minutes: IntArray  # session length in minutes
    open: FloatArray  # (rows, width)
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: IntArray


def generate_minutes(
    profiles: Sequence[SymbolProfile], sessions: Sequence[int] | IntArray, raw_factor: FloatArray
) -> MinuteBlock:
    """One-minute OHLCV for each (profile, session index) row, fully vectorised.

    ``raw_factor`` per row is the product of the symbol's splits after that session: the
    factor from today's share basis back to the shares that traded then.
    """
    tab = session_table()
    idx = np.asarray(sessions, dtype=np.int64)
    rows = len(idx)
    opens_s = tab.opens[idx]
    closes_s = tab.closes[idx]
    minutes = (closes_s - opens_s) // 60
    width = int(minutes.max()) if rows else 0
    seeds = np.array([p.seed for p in profiles], dtype=np.uint64)
    row_seed = mix64(seeds ^ (tab.days[idx].astype(np.uint64) * GOLDEN))

    counter = np.arange(1, width + 1, dtype=np.uint64) * GOLDEN
    steps = unit(mix64(row_seed[:, None] + counter[None, :]))
    wick_hi, wick_lo, vol_noise = fields(mix64((row_seed ^ STREAM_WICKS)[:, None] + counter))
    gap, target, day_volume = fields(mix64(row_seed ^ STREAM_DAY))

    k = np.arange(1, width + 1, dtype=np.float64)
    inside = k[None, :] <= minutes[:, None]
    full = bool((minutes == width).all())  # no early close in the batch: nothing to mask
    eps = (steps - 0.5) * 3.4641016151377544  # unit variance
    if not full:
        eps[~inside] = 0.0
    walk = np.cumsum(eps, axis=1)
    end = walk[np.arange(rows), minutes - 1]
    frac = k[None, :] / minutes[:, None]
    bridge = walk - frac * end[:, None]

    vol_d = np.array([p.daily_vol for p in profiles])
    sigma_m = vol_d / math.sqrt(390.0)
    level_open = row_levels(profiles, opens_s.astype(np.float64))
    level_close = row_levels(profiles, closes_s.astype(np.float64))
    log_open = np.log(level_open) + vol_d * 0.6 * (gap - 0.5)
    log_close = np.log(level_close) + vol_d * 0.6 * (target - 0.5)
    log_path = bridge
    log_path *= sigma_m[:, None]
    log_path += log_open[:, None] + frac * (log_close - log_open)[:, None]

    close_gen = np.exp(log_path)
    open_gen = np.empty_like(close_gen)
    open_gen[:, 0] = np.exp(log_open)
    open_gen[:, 1:] = close_gen[:, :-1]
    unsplit = bool((raw_factor == 1.0).all())
    factor = raw_factor[:, None]

    def cents(values: FloatArray) -> FloatArray:
        return np.round(values if unsplit else values * factor, 2)

    close = np.maximum(cents(close_gen), 0.01)
    open_ = np.maximum(cents(open_gen), 0.01)
    wick = sigma_m[:, None] * 0.8  # exp(x) ~ 1 + x: wicks are a fraction of a percent
    top = np.maximum(open_gen, close_gen) * (1.0 + wick * wick_hi)
    bottom = np.minimum(open_gen, close_gen) * (1.0 - wick * wick_lo)
    high = np.maximum(cents(top), np.maximum(open_, close))
    low = np.minimum(np.maximum(cents(bottom), 0.01), np.minimum(open_, close))

    per_day = np.array([p.volume_level for p in profiles]) * np.exp(0.7 * (day_volume - 0.5))
    per_min = per_day / (390.0 * 0.9)  # 0.9: mean of the intraday shape
    shape = np.stack([_volume_shape(int(n), width) for n in minutes]) if rows else vol_noise
    volume_gen = (0.4 + 1.2 * vol_noise) * shape * per_min[:, None]
    volume = np.floor(volume_gen if unsplit else volume_gen / factor).astype(np.int64)

    if not full:
        outside = ~inside
        for array in (open_, high, low, close):
            array[outside] = np.nan
        volume[outside] = 0
    return MinuteBlock(
        sessions=idx,
        opens_s=opens_s,
        minutes=minutes,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
    )


@functools.lru_cache(maxsize=64)
def _volume_shape(minutes: int, width: int) -> FloatArray:
    """Relative volume per minute: a U-shaped day with busy first minutes."""
    x = (np.arange(1, width + 1) - 0.5) / minutes * 2.0 - 1.0  # -1 at the open, 1 at the close
    x2 = x * x
    shape = 0.55 + 1.6 * x2 * x2 + 0.6 * (x < -0.98)
    shape.flags.writeable = False
    return shape


@dataclass(frozen=True)
class Aggregated:
    """Bars of ``step`` minutes per row: (rows, bars) arrays; ``valid`` marks real bars."""

    start_offset: IntArray  # (bars,) minutes after the open
    valid: npt.NDArray[np.bool_]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: IntArray


def aggregate(block: MinuteBlock, step: int, available: IntArray) -> Aggregated:
    """Bars starting at the open and every ``step`` minutes while before the close.

    ``available`` per row is how many minutes have started (the whole session once it has
    closed); later minutes do not exist yet, so the current bar is partial.
    """
    rows, width = block.open.shape
    nbars = max(1, -(-width // step))
    padded = nbars * step
    minute = np.arange(padded)
    live = minute[None, :] < available[:, None]

    def pad(a: npt.NDArray[np.generic], fill: float) -> npt.NDArray[np.generic]:
        out = np.full((rows, padded), fill, dtype=a.dtype)
        out[:, :width] = a
        return np.where(live, out, fill).reshape(rows, nbars, step)

    high = pad(block.high, -np.inf).max(axis=2)
    low = pad(block.low, np.inf).min(axis=2)
    volume = pad(block.volume, 0).sum(axis=2)
    starts = np.arange(nbars) * step
    valid = starts[None, :] < available[:, None]
    opens = np.full((rows, padded), np.nan)
    opens[:, :width] = block.open
    open_ = opens.reshape(rows, nbars, step)[:, :, 0]
    last = np.minimum(starts[None, :] + step, available[:, None]) - 1
    last = np.clip(last, 0, max(width - 1, 0))
    close = np.take_along_axis(block.close, last, axis=1) if width else np.zeros((rows, nbars))
    return Aggregated(
        start_offset=starts.astype(np.int64),
        valid=valid,
        open=open_,
        high=np.asarray(high, dtype=np.float64),
        low=np.asarray(low, dtype=np.float64),
        close=close,
        volume=np.asarray(volume, dtype=np.int64),
    )


def daily_model(
    profiles: Sequence[SymbolProfile], sessions: Sequence[int] | IntArray, raw_factor: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Daily OHLCV straight from the day's hashes, for sessions too old for minute detail.

    The open uses the same draw as ``generate_minutes``; the rest only resembles it.
    """
    tab = session_table()
    idx = np.asarray(sessions, dtype=np.int64)
    seeds = np.array([p.seed for p in profiles], dtype=np.uint64)
    row_seed = mix64(seeds ^ (tab.days[idx].astype(np.uint64) * GOLDEN))
    gap, target, day_volume = fields(mix64(row_seed ^ STREAM_DAY))
    wick_hi, wick_lo, _ = fields(mix64(row_seed ^ STREAM_WICKS))
    vol_d = np.array([p.daily_vol for p in profiles])
    minutes = (tab.closes[idx] - tab.opens[idx]) // 60
    open_gen = row_levels(profiles, tab.opens[idx].astype(np.float64)) * np.exp(
        vol_d * 0.6 * (gap - 0.5)
    )
    close_gen = row_levels(profiles, tab.closes[idx].astype(np.float64)) * np.exp(
        vol_d * 0.6 * (target - 0.5)
    )
    open_ = np.maximum(np.round(open_gen * raw_factor, 2), 0.01)
    close = np.maximum(np.round(close_gen * raw_factor, 2), 0.01)
    high_gen = np.maximum(open_gen, close_gen) * np.exp(vol_d * (0.2 + 0.6 * wick_hi))
    low_gen = np.minimum(open_gen, close_gen) * np.exp(-vol_d * (0.2 + 0.6 * wick_lo))
    high = np.maximum(np.round(high_gen * raw_factor, 2), np.maximum(open_, close))
    low = np.minimum(np.maximum(np.round(low_gen * raw_factor, 2), 0.01), np.minimum(open_, close))
    per_day = np.array([p.volume_level for p in profiles]) * np.exp(0.7 * (day_volume - 0.5))
    volume = np.floor(per_day * minutes / 390.0 / raw_factor).astype(np.int64)
    return open_, high, low, close, volume
