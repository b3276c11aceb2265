"""Re-verification: stored daily bars, as the adjusted view shows them, against Yahoo today.

Yahoo's daily answer is split- and dividend-adjusted as of the moment it arrives, and so is
``daily_prices_adjusted``: on the same dates they must agree. Where they do not, Yahoo has
corrected a past value or the warehouse missed a corporate event. These rules are pure:
two frames in, the differences out.

Tolerances:

- ``open``, ``high``, ``low``, ``close``: relative 1e-4. Yahoo sends float32 (7 significant
  digits), and a stored price is the as-traded value rounded to Yahoo's ``priceHint``.
- ``adj_close``: relative 1e-3. The view computes the dividend factor from stored closes
  and dividends the way Yahoo does, but it is a product over every later dividend, so it
  carries more rounding; a missed dividend still moves it by its yield (0.1% a quarter or
  more for a payer), and a wrong close moves it as much as the close.
- ``volume``: relative 1e-4, and never less than one share: unadjusting a split whose ratio
  is not a whole number (3:2) rounds the stored volume by up to a share.

A value missing on one side and present on the other is a difference; missing on both is not.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from stock_pipeline.domain.weeks import WEEK_INTERVAL, history_span

PRICE_COLUMNS = ("open", "high", "low", "close")
COMPARED_COLUMNS = (*PRICE_COLUMNS, "adj_close", "volume")
PRICE_TOLERANCE = 1e-4
ADJ_CLOSE_TOLERANCE = 1e-3
VOLUME_TOLERANCE = 1e-4
VOLUME_SLACK = 1  # shares


@dataclass(frozen=True)
class Tolerance:
    relative: float
    absolute: float = 0.0

    def within(self, stored: float, fresh: float) -> bool:
        if math.isnan(stored) or math.isnan(fresh):
            return math.isnan(stored) and math.isnan(fresh)
        allowed = max(self.absolute, self.relative * max(abs(stored), abs(fresh)))
        return abs(stored - fresh) <= allowed

    def within_all(self, stored: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """``within`` for two arrays at once (element-wise)."""
        allowed = np.maximum(self.absolute, self.relative * np.maximum(abs(stored), abs(fresh)))
        both_nan = np.isnan(stored) & np.isnan(fresh)
        with np.errstate(invalid="ignore"):
            return both_nan | (np.abs(stored - fresh) <= allowed)


TOLERANCES: Mapping[str, Tolerance] = {
    **{c: Tolerance(PRICE_TOLERANCE) for c in PRICE_COLUMNS},
    "adj_close": Tolerance(ADJ_CLOSE_TOLERANCE),
    "volume": Tolerance(VOLUME_TOLERANCE, VOLUME_SLACK),
}


@dataclass(frozen=True)
class Difference:
    """One column of one day where the stored view and Yahoo today disagree."""

    day: date
    column: str
    stored: float
    yahoo: float

    def __str__(self) -> str:
        return f"{self.day} {self.column}: stored {_shown(self.stored)}, Yahoo {_shown(self.yahoo)}"


def _shown(value: float) -> str:
    return "missing" if math.isnan(value) else f"{value:.6g}"


@dataclass
class Comparison:
    """One symbol's comparison: how many dates were compared, and every difference."""

    compared: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def dates(self) -> list[date]:
        """The differing dates, oldest first."""
        return sorted({d.day for d in self.differences})

    @property
    def years(self) -> list[int]:
        return sorted({d.year for d in self.dates})

    @property
    def stored_bar_years(self) -> list[int]:
        """Years where a stored bar itself differs (a price or the volume), not only the
        adjusted close: storing these again can change what the view shows. An adjusted
        close alone is fixed by the events the answer brings, not by storing bars again."""
        return sorted({d.day.year for d in self.differences if d.column != "adj_close"})

    def by_column(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.differences:
            counts[d.column] = counts.get(d.column, 0) + 1
        return counts

    def lines(self, limit: int = 20) -> list[str]:
        """One line per differing date (all its columns), the first ``limit`` dates."""
        per_day: dict[date, list[Difference]] = {}
        for d in self.differences:
            per_day.setdefault(d.day, []).append(d)
        days = sorted(per_day)
        shown = [
            f"{day}: "
            + "; ".join(
                f"{d.column} stored {_shown(d.stored)}, Yahoo {_shown(d.yahoo)}"
                for d in per_day[day]
            )
            for day in days[:limit]
        ]
        if len(days) > limit:
            shown.append(f"… and {len(days) - limit} more date(s)")
        return shown


def _by_date(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(date=pd.to_datetime(frame["date"]).dt.date)
    return out.drop_duplicates("date", keep="last").set_index("date")


def compare_daily(
    stored: pd.DataFrame,
    yahoo: pd.DataFrame,
    tolerances: Mapping[str, Tolerance] = TOLERANCES,
) -> Comparison:
    """Compare one symbol's stored (adjusted-view) daily bars with Yahoo's on shared dates.

    Both frames have a ``date`` column and the ``COMPARED_COLUMNS`` they carry; a column
    either lacks is not compared. Dates only one side has are not compared (a gap is not a
    correction: the sync's completeness rules own those).
    """
    left, right = _by_date(stored), _by_date(yahoo)
    shared = left.index.intersection(right.index).sort_values()
    result = Comparison(compared=len(shared))
    days: list[date] = list(shared)
    if not len(shared):
        return result
    for column, tolerance in tolerances.items():
        if column not in left.columns or column not in right.columns:
            continue
        ours = left.loc[shared, column].to_numpy(dtype="float64", na_value=np.nan)
        theirs = right.loc[shared, column].to_numpy(dtype="float64", na_value=np.nan)
        for i in np.flatnonzero(~tolerance.within_all(ours, theirs)):
            result.differences.append(Difference(days[i], column, float(ours[i]), float(theirs[i])))
    result.differences.sort(key=lambda d: (d.day, COMPARED_COLUMNS.index(d.column)))
    return result


def weekly_span_gap(year: int, answer_years: Collection[int], last_final: date) -> str | None:
    """Why a daily answer holding the whole calendar years ``answer_years`` (up to
    ``last_final``, the latest session final when it arrived) cannot rebuild weekly year
    ``year``; None when it covers the year's span (``history_span(year, '1wk')``, up to
    ``last_final`` where the span reaches past it).

    A weekly span runs from the year's first Monday to the Sunday after its last one, so it
    may need the first days of the next year; a weekday there (a session or a holiday) must
    be in the answer, a weekend need not.
    """
    first, last = history_span(year, WEEK_INTERVAL)
    through = min(last, last_final)
    if through < first:
        return f"no session of its weeks ({first} to {last}) was final when the answer arrived"
    weekdays = pd.bdate_range(first, through)
    missing = sorted({int(d.year) for d in weekdays} - set(answer_years))
    if missing:
        return (
            f"its weeks run {first} to {last}; the answer holds no daily bars of "
            f"{', '.join(map(str, missing))} (only years with daily bars stored are asked for)"
        )
    return None
