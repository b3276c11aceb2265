"""Undoing Yahoo's split adjustment: what a bar traded at, from what an answer says.

Yahoo divides every price before a split (and multiplies every volume) by the split's
ratio, for every split known when it answers, listed in the answer or not. Given all
splits known at arrival, ``as_traded`` multiplies them back, so a stored bar never changes
meaning when the next split comes; the adjusted views divide by the splits known today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from stock_pipeline.domain.corporate_actions import split_factor
from stock_pipeline.domain.instruments import DEFAULT_PRICE_HINT

PRICES = ("open", "high", "low", "close")


def as_traded(
    frame: pd.DataFrame,
    day_column: str,
    splits: Iterable[tuple[date, float]],
    price_hint: int | None = DEFAULT_PRICE_HINT,
) -> pd.DataFrame:
    """One symbol's bars on the share basis they traded on, prices at ``price_hint`` decimals.

    ``splits`` must be every split known when the answer arrived. Rounding after
    unadjusting also removes Yahoo's float32 noise (225.88999938964844 → 225.89).
    """
    if frame.empty:
        return frame
    decimals = DEFAULT_PRICE_HINT if price_hint is None else price_hint
    factor = split_factor(frame[day_column], list(splits))
    out = frame.copy()
    for column in PRICES:
        out[column] = np.round(out[column].to_numpy(dtype="float64") * factor, decimals)
    out["volume"] = np.round(out["volume"].to_numpy(dtype="float64") / factor).astype("int64")
    if "dividends" in out.columns:  # Yahoo's amounts are split-adjusted like prices
        out["dividends"] = np.round(out["dividends"].to_numpy(dtype="float64") * factor, 6)
    return out
