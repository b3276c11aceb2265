"""Weekly bars from daily bars: every session in exactly one week, weeks owned by one year.

The rule (docs/data-model.md, "Weekly bars"):

* A week runs Monday to Sunday and is dated on its Monday, as Yahoo dates its 1wk bars
  (also when that Monday is a holiday).
* A week belongs to the year partition of its Monday. Partition Y therefore holds the weeks
  whose Monday falls in Y: it starts at Y's first Monday and ends on the Sunday after Y's
  last Monday, which may lie in Y+1 (2025's last week, Monday 2025-12-29, holds
  2026-01-02). Sessions before Y's first Monday belong to Y-1's last week.
* A weekly bar is the aggregate of its week's daily bars: open = first open, high = max,
  low = min, close = last close, volume = sum, ``adj_close`` = the last session's;
  ``dividends`` sums the week's dividends, ``stock_splits`` multiplies its splits.
* Its prices and volume are on the share basis of the week's **last session**: where a split
  takes effect inside the week, the sessions before it are divided by its ratio (volume
  multiplied) before aggregating, so one bar never mixes two bases (prices then kept to six
  decimals). A week without a split is exactly as traded. The adjusted view divides a
  weekly row by the splits after its week (``basis_day``), so it equals the aggregate of
  the adjusted daily bars.

Pure: pandas only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from stock_pipeline.domain.bars import DAILY_COLUMNS, empty_daily

WEEK_INTERVAL = "1wk"
# A week with a split inside divides its earlier sessions' prices by the split: kept to six
# decimals (not Yahoo's priceHint), so it still equals the aggregate of the adjusted days.
SPLIT_WEEK_DECIMALS = 6
DAYS_TO_WEEK_END = 6  # Monday + 6 = the week's Sunday


def week_of(day: date) -> date:
    """The Monday of ``day``'s week: the date its weekly bar carries."""
    return day - timedelta(days=day.weekday())


def basis_day(week: date) -> date:
    """The last day of the week dated ``week``: its bar is on the share basis of then."""
    return week + timedelta(days=DAYS_TO_WEEK_END)


def year_weeks(year: int) -> tuple[date, date]:
    """First and last day of the sessions partition ``year`` of 1wk bars covers: from the
    year's first Monday to the Sunday after its last Monday."""
    first = week_of(date(year, 1, 1))
    if first.year < year:
        first += timedelta(days=7)
    return first, basis_day(week_of(date(year, 12, 31)))


def history_span(year: int, interval: str) -> tuple[date, date]:
    """The days whose sessions partition ``year`` of ``interval`` (1d or 1wk) is made of."""
    if interval == WEEK_INTERVAL:
        return year_weeks(year)
    return date(year, 1, 1), date(year, 12, 31)


def partition_rows(bars: pd.DataFrame, year: int) -> pd.DataFrame:
    """Partition ``year``'s rows of one answer's 1d or 1wk bars, with the ``year`` column: a
    bar goes to its date's year, so a weekly bar (dated on its Monday) to its Monday's."""
    return bars[pd.to_datetime(bars["date"]).dt.year == year].assign(year=year)


def weekly_bars(
    daily: pd.DataFrame, splits: Iterable[tuple[date, float]], as_traded: bool
) -> pd.DataFrame:
    """One symbol's daily answer as the weekly rows a 1wk sync stores: ``weekly_from_daily``
    with the splits inside a week applied first; an answer put back to as traded
    (``as_traded``) keeps its prices to ``SPLIT_WEEK_DECIMALS``, one as Yahoo sent it is
    left unrounded. Re-verification rebuilds weekly years with this too."""
    return weekly_from_daily(daily, splits, SPLIT_WEEK_DECIMALS if as_traded else None)


def weekly_from_daily(
    daily: pd.DataFrame,
    splits: Iterable[tuple[date, float]] = (),
    decimals: int | None = None,
) -> pd.DataFrame:
    """One symbol's canonical daily rows, all on one share basis, as canonical 1wk rows.

    ``splits``: the symbol's splits (ex_date, ratio) whose ex-date may fall inside a week of
    ``daily``; a week's sessions before its split are put on the basis after it first. The
    rows keep the basis of ``daily`` otherwise (as traded in, as traded out). ``decimals``:
    round the prices (to drop float noise: 1118.55 / 3); a week without a split keeps the
    daily values, so round them to at least their decimals.
    """
    if daily.empty:
        return empty_daily().assign(interval=WEEK_INTERVAL)
    frame = daily.sort_values("date", kind="stable").reset_index(drop=True)
    days = pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[D]")
    # Monday of each day's week: 1970-01-01 was a Thursday, so day + 3 counts from a Monday.
    weeks = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    starts = np.flatnonzero(np.r_[True, weeks[1:] != weeks[:-1]])
    ends = np.r_[starts[1:], len(weeks)] - 1
    sizes = np.diff(np.r_[starts, len(weeks)])
    last_day = np.repeat(days[ends], sizes)
    # Splits after a day but not after its week's last session: the ones inside its week.
    inside = np.ones(len(days))
    for ex_date, ratio in splits:
        if ratio and ratio > 0:
            ex = np.datetime64(ex_date, "D")
            inside = np.where((days < ex) & (ex <= last_day), inside * ratio, inside)

    def column(name: str) -> np.ndarray:
        return np.asarray(frame[name].to_numpy(dtype="float64"))

    opens, highs, lows, closes = (column(c) / inside for c in ("open", "high", "low", "close"))
    volume = np.round(column("volume") * inside)
    ratios = column("stock_splits")
    ratios = np.where(ratios > 0, ratios, 1.0)
    split = np.multiply.reduceat(ratios, starts)
    out = pd.DataFrame(
        {
            "symbol": frame["symbol"].to_numpy()[starts],
            "interval": WEEK_INTERVAL,
            "date": pd.DatetimeIndex(weeks[starts]).date,
            "open": opens[starts],
            "high": np.fmax.reduceat(highs, starts),
            "low": np.fmin.reduceat(lows, starts),
            "close": closes[ends],
            "adj_close": column("adj_close")[ends],
            "volume": np.add.reduceat(volume, starts),
            "dividends": np.add.reduceat(np.nan_to_num(column("dividends")), starts),
            "stock_splits": np.where(split != 1.0, split, 0.0),
        }
    )
    if decimals is not None:
        for name in ("open", "high", "low", "close"):
            out[name] = np.round(out[name].to_numpy(dtype="float64"), decimals)
    extra = [c for c in daily.columns if c not in DAILY_COLUMNS and c != "year"]
    for name in extra:  # e.g. fetched_at: the last session's (one answer: all the same)
        out[name] = frame[name].to_numpy()[ends]
    return out.astype(DAILY_COLUMNS).reset_index(drop=True)
