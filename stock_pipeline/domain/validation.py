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
    o, h, lo, c = (frame[col].to_numpy(dtype="float64", na_value=np.nan) for col in PRICE_COLUMNS)
    with np.errstate(invalid="ignore"):
        nan_rows = int((np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c)).sum())
        if nan_rows:
            found.append(Violation("nan_price", nan_rows, "open/high/low/close must all be set"))
        non_positive = int(((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)).sum())
        if non_positive:
            found.append(Violation("non_positive_price", non_positive, "prices must be > 0"))
        body_low, body_high = np.fmin(o, c), np.fmax(o, c)  # NaN-skipping, as pandas min
        tol = 1e-9 * np.maximum(np.abs(h), 1.0)
        bad = (lo > body_low + tol) | (h < body_high - tol) | (lo > h + tol)
        bad_order = int(bad.sum())
    if bad_order:
        found.append(Violation("ohlc_order", bad_order, "need low <= open, close <= high"))
    volume = frame["volume"].to_numpy(dtype="float64", na_value=np.nan)
    negative_volume = int((volume < 0).sum())
    if negative_volume:
        found.append(Violation("negative_volume", negative_volume, "volume must be >= 0"))
    keys = ["symbol", "interval", key] if "symbol" in frame.columns else [key]
    duplicates = _duplicates(frame, keys)
    if duplicates:
        found.append(Violation("duplicate_bar", duplicates, f"one row per {'/'.join(keys)}"))
    return found


def _duplicates(frame: pd.DataFrame, keys: list[str]) -> int:
    """Rows repeating an earlier row's keys; the common one-symbol frame by its key alone."""
    constant = [k for k in keys[:-1] if frame[k].nunique(dropna=False) == 1]
    if len(constant) == len(keys) - 1:
        return int(pd.Index(frame[keys[-1]]).duplicated().sum())
    return int(frame.duplicated(subset=keys).sum())
