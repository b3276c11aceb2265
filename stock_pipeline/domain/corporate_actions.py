"""Splits and dividends as data: reading them from Yahoo's answers, and the factors they imply.

Yahoo states every amount on the share basis of the moment it answers: a dividend paid
before a later split arrives divided by that split. ``corporate_actions`` keeps each event
as it happened (a split's new shares per old share, a dividend's cash per share as paid),
so nothing stored changes meaning when the next split comes. These rules are pure: frames
in, frames out, tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from stock_pipeline.domain.trading_calendar import (
    NEW_YORK,
    latest_session,
    session_open,
)

SPLIT = "split"
DIVIDEND = "dividend"
ACTION_COLUMNS = ("symbol", "ex_date", "kind", "value")


def empty_actions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ACTION_COLUMNS}).astype(
        {"value": "float64"}
    )


def _ex_date(epoch_s: object) -> date:
    """Yahoo stamps an event at the ex-date's open (or midnight), in epoch seconds."""
    return datetime.fromtimestamp(int(float(str(epoch_s))), NEW_YORK).date()


def chart_events(symbol: str, result: Mapping[str, Any]) -> pd.DataFrame:
    """The events of one chart ``result`` (``chart.result[0]``), as Yahoo states them.

    Reads ``events.splits`` and ``events.dividends`` directly, so a dividend on a day the
    answer has no bar for is kept (yfinance drops it from its price frame).
    """
    events = result.get("events") or {}
    rows: list[dict[str, object]] = []
    for stamp, split in (events.get("splits") or {}).items():
        numerator, denominator = split.get("numerator"), split.get("denominator")
        if not numerator or not denominator:
            continue
        when = split.get("date", stamp)
        rows.append({"ex_date": _ex_date(when), "kind": SPLIT, "value": numerator / denominator})
    for stamp, dividend in (events.get("dividends") or {}).items():
        amount = dividend.get("amount")
        if amount is None or amount <= 0:
            continue
        when = dividend.get("date", stamp)
        rows.append({"ex_date": _ex_date(when), "kind": DIVIDEND, "value": float(amount)})
    return _framed(symbol, rows)


def frame_events(symbol: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Events of a canonical daily frame (``dividends`` and ``stock_splits`` columns)."""
    rows: list[dict[str, object]] = []
    for day, dividend, split in zip(
        frame["date"], frame["dividends"], frame["stock_splits"], strict=True
    ):
        if split and split > 0:
            rows.append({"ex_date": day, "kind": SPLIT, "value": float(split)})
        if dividend and dividend > 0:
            rows.append({"ex_date": day, "kind": DIVIDEND, "value": float(dividend)})
    return _framed(symbol, rows)


def _framed(symbol: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    if not rows:
        return empty_actions()
    out = pd.DataFrame(rows).assign(symbol=symbol)[list(ACTION_COLUMNS)]
    return out.drop_duplicates(["ex_date", "kind"], keep="last").reset_index(drop=True)


def split_factor(days: Sequence[date] | pd.Series, splits: Iterable[tuple[date, float]]) -> Any:
    """Per day: the product of the ratios of every split with an ex-date after it.

    Multiply an as-traded price's shares by it (divide the price by it) to put the price on
    the basis after those splits.
    """
    stamps = pd.to_datetime(pd.Series(list(days))).to_numpy()
    factor = np.ones(len(stamps))
    for ex_date, ratio in splits:
        factor = np.where(stamps < np.datetime64(ex_date), factor * ratio, factor)
    return factor


def as_paid(answer: pd.DataFrame, splits: Iterable[tuple[date, float]]) -> pd.DataFrame:
    """An answer's events with dividends put back to the cash paid per share then.

    ``splits`` are every split known when the answer arrived (those it lists and those
    already stored): Yahoo divided each earlier dividend by all of them.
    """
    if answer.empty:
        return answer
    known = {d: r for d, r in splits}
    known.update(
        {
            d: r
            for d, k, r in zip(answer["ex_date"], answer["kind"], answer["value"], strict=True)
            if k == SPLIT
        }
    )
    out = answer.copy()
    dividends = out["kind"] == DIVIDEND
    factor = split_factor(out.loc[dividends, "ex_date"], known.items())
    out.loc[dividends, "value"] = np.round(out.loc[dividends, "value"].to_numpy() * factor, 6)
    return out


def splits_stale(checked_at: datetime | None, now: datetime) -> bool:
    """Whether a split may have taken effect since ``checked_at``: splits take effect at a
    session's open, so events checked after the latest open before ``now`` are current."""
    if checked_at is None:
        return True
    return checked_at < session_open(latest_session(now))
