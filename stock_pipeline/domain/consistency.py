"""Whether a day's daily bar agrees with the same day's intraday bars. No Dagster here.

Both come from Yahoo but are built differently: the daily bar carries the official close
(the closing auction) and consolidated volume, the intraday bars sum the prints Yahoo
assigned to each bar. They should agree within tolerance, not exactly:
- prices (close, high, low) within 1% of the daily value: the last bar's close is the last
  trade before the bell, the official close is the auction price;
- intraday volume between 50% and 102% of the daily volume: Yahoo's intraday volume
  routinely misses the auction and off-exchange prints (AAPL on 2025-06-16: 34.1M summed
  over hourly bars against 43.0M daily, 79%, yfinance issue 2542), and never exceeds the
  day by more than rounding.
A split between the two fetches shows here too (one side adjusted, the other not).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_TOLERANCE = 0.01
VOLUME_SHARE_MIN = 0.5
VOLUME_SHARE_MAX = 1.02


@dataclass(frozen=True)
class DayBar:
    """High, low, close and volume of one day, from either source."""

    high: float
    low: float
    close: float
    volume: int


def _price_off(daily: float, intraday: float) -> bool:
    return abs(intraday - daily) > PRICE_TOLERANCE * abs(daily)


def mismatches(daily: DayBar, intraday: DayBar) -> list[str]:
    """The fields that disagree beyond tolerance, each with both values."""
    found = [
        f"{name}: daily {d:.4f} vs intraday {i:.4f}"
        for name, d, i in (
            ("close", daily.close, intraday.close),
            ("high", daily.high, intraday.high),
            ("low", daily.low, intraday.low),
        )
        if _price_off(d, i)
    ]
    if daily.volume <= 0:
        if intraday.volume > 0:
            found.append(f"volume: daily 0 vs intraday {intraday.volume}")
    else:
        share = intraday.volume / daily.volume
        if not VOLUME_SHARE_MIN <= share <= VOLUME_SHARE_MAX:
            found.append(
                f"volume: daily {daily.volume} vs intraday {intraday.volume} ({share:.0%}; "
                f"{VOLUME_SHARE_MIN:.0%}-{VOLUME_SHARE_MAX:.0%} expected)"
            )
    return found
