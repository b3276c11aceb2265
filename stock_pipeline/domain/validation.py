"""Sanity rules for bars, shared by the fetch path (reject before storing) and asset checks."""

from __future__ import annotations

from dataclasses import dataclass

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
    """Rows whose prices are missing or out of order, negative volumes, duplicate keys."""
    found: list[Violation] = []
    if frame.empty:
        return found
    nan_rows = int(frame[list(PRICE_COLUMNS)].isna().any(axis=1).sum())
    if nan_rows:
        found.append(Violation("nan_price", nan_rows, "open/high/low/close must all be set"))
    non_positive = int((frame[list(PRICE_COLUMNS)] <= 0).any(axis=1).sum())
    if non_positive:
        found.append(Violation("non_positive_price", non_positive, "prices must be > 0"))
    lo, hi = frame["low"], frame["high"]
    body_low = frame[["open", "close"]].min(axis=1)
    body_high = frame[["open", "close"]].max(axis=1)
    tol = 1e-9 * hi.abs().clip(lower=1.0)
    bad_order = int(((lo > body_low + tol) | (hi < body_high - tol) | (lo > hi + tol)).sum())
    if bad_order:
        found.append(Violation("ohlc_order", bad_order, "need low <= open, close <= high"))
    negative_volume = int((frame["volume"] < 0).sum())
    if negative_volume:
        found.append(Violation("negative_volume", negative_volume, "volume must be >= 0"))
    keys = ["symbol", "interval", key] if "symbol" in frame.columns else [key]
    duplicates = int(frame.duplicated(subset=keys).sum())
    if duplicates:
        found.append(Violation("duplicate_bar", duplicates, f"one row per {'/'.join(keys)}"))
    return found
