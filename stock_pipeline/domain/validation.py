"""Sanity rules for bars, shared by the fetch path (reject before storing) and asset checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stock_pipeline.domain.bars import PRICE_COLUMNS


@dataclass(frozen=True)
class Violation:
    rule: str
    rows: int
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.rows} row(s) ({self.detail})"


def ohlc_violations(frame: pd.DataFrame, key: str = "ts") -> list[Violation]:
    """Rows whose prices are missing or out of order, negative volumes, duplicate keys.

    NumPy on the columns: it runs for every partition fetched and every partition checked
    (about 0.5 ms for a day of 5m bars; pandas row-wise ``min(axis=1)`` took 10 ms).
    """
    found: list[Violation] = []
    if frame.empty:
        return found
    flags = ohlc_row_flags(frame)
    nan_rows = int(flags.nan_price.sum())
    if nan_rows:
        found.append(Violation("nan_price", nan_rows, "open/high/low/close must all be set"))
    non_positive = int(flags.non_positive_price.sum())
    if non_positive:
        found.append(Violation("non_positive_price", non_positive, "prices must be > 0"))
    bad_order = int(flags.ohlc_order.sum())
    if bad_order:
        found.append(Violation("ohlc_order", bad_order, "need low <= open, close <= high"))
    negative_volume = int(flags.negative_volume.sum())
    if negative_volume:
        found.append(Violation("negative_volume", negative_volume, "volume must be >= 0"))
    keys = ["symbol", "interval", key] if "symbol" in frame.columns else [key]
    duplicates = _duplicates(frame, keys)
    if duplicates:
        found.append(Violation("duplicate_bar", duplicates, f"one row per {'/'.join(keys)}"))
    return found


@dataclass(frozen=True)
class OhlcFlags:
    """Per row, which OHLC rule it breaks: one mask per rule, in ``ohlc_violations`` order."""

    nan_price: np.ndarray
    non_positive_price: np.ndarray
    ohlc_order: np.ndarray
    negative_volume: np.ndarray

    def any(self) -> np.ndarray:
        return self.nan_price | self.non_positive_price | self.ohlc_order | self.negative_volume


def ohlc_row_flags(frame: pd.DataFrame) -> OhlcFlags:
    """The OHLC rules row by row: the one definition both ``ohlc_violations`` (one
    partition) and the whole-run verdicts (``domain.frame_verdicts``, all rows at once) use."""
    o, h, lo, c = (frame[col].to_numpy(dtype="float64", na_value=np.nan) for col in PRICE_COLUMNS)
    volume = frame["volume"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        nan_price = np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c)
        non_positive = (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)
        body_low, body_high = np.fmin(o, c), np.fmax(o, c)  # NaN-skipping, as pandas min
        tol = 1e-9 * np.maximum(np.abs(h), 1.0)
        bad_order = (lo > body_low + tol) | (h < body_high - tol) | (lo > h + tol)
        negative_volume = volume < 0
    return OhlcFlags(nan_price, non_positive, bad_order, negative_volume)


def _duplicates(frame: pd.DataFrame, keys: list[str]) -> int:
    """Rows repeating an earlier row's keys; the common one-symbol frame by its key alone."""
    constant = [k for k in keys[:-1] if frame[k].nunique(dropna=False) == 1]
    if len(constant) == len(keys) - 1:
        return int(pd.Index(frame[keys[-1]]).duplicated().sum())
    return int(frame.duplicated(subset=keys).sum())
