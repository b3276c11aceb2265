"""Implausible daily moves: a close-to-close change beyond ±40 % that no split explains.

Yahoo sometimes serves a bar 100 times too high (a price in cents) or in another unit; the
next bar then drops back. Real one-day moves of that size are rare enough to look at, and a
split on the day (or between two stored sessions) is the one ordinary cause: the change is
measured on one share basis, so SPLT's 4:1 split (203.08 → 51.20) is a move of +0.9 %.
Pure: the verdict is in ``domain.verdicts.daily_moves``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

MOVE_LIMIT = 0.40  # |close × splits / previous close − 1| above this is flagged


@dataclass(frozen=True)
class Move:
    """One session's close against the previous stored session's, on one share basis."""

    symbol: str
    day: date
    close: float
    previous_day: date
    previous_close: float
    split: float = 1.0  # product of the splits effective in (previous_day, day]

    @property
    def change(self) -> float:
        return self.close * self.split / self.previous_close - 1.0

    def __str__(self) -> str:
        split = f" with a {_number(self.split)}:1 split" if self.split != 1.0 else ""
        return (
            f"{self.symbol} {self.day}: close {_number(self.close)} after "
            f"{_number(self.previous_close)} on {self.previous_day}{split} ({self.change:+.0%})"
        )


def _number(value: float) -> str:
    """A price as people write it: 46121, 203.08, 0.0123 (no exponent, no float noise)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def daily_moves(
    symbol: str,
    days: Sequence[date],
    closes: Sequence[float],
    previous: tuple[date, float] | None,
    splits: Iterable[tuple[date, float]] = (),
) -> list[Move]:
    """Each session's move from the one before (``previous``: the last stored session
    before ``days``, possibly in another year), skipping missing or non-positive closes.

    ``days`` ascending; ``splits``: (ex_date, new shares per old share) of the symbol.
    """
    known = sorted((d, r) for d, r in splits if r and r > 0)
    series = [(d, float(c)) for d, c in zip(days, closes, strict=True)]
    if previous is not None:
        series.insert(0, (previous[0], float(previous[1])))
    found: list[Move] = []
    last: tuple[date, float] | None = None
    for day, close in series:
        if not close > 0:  # NaN or 0: ohlc_sane's to report
            continue
        if last is not None:
            ratio = 1.0
            for ex_date, value in known:
                if last[0] < ex_date <= day:
                    ratio *= value
            found.append(Move(symbol, day, close, last[0], last[1], ratio))
        last = (day, close)
    return found


def unexplained(moves: Iterable[Move], limit: float = MOVE_LIMIT) -> list[Move]:
    """The moves beyond ±``limit`` once splits are taken into account."""
    return [m for m in moves if abs(m.change) > limit]
