"""Bar intervals Yahoo serves, and their limits: the one place these facts live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from stock_pipeline.domain.errors import InvalidIntervalError

IntradayInterval = Literal["1m", "2m", "5m", "15m", "30m", "60m", "90m"]
HistoryInterval = Literal["1d", "1wk"]

INTRADAY_INTERVALS: tuple[str, ...] = get_args(IntradayInterval)
HISTORY_INTERVALS: tuple[str, ...] = get_args(HistoryInterval)
HISTORY_PERIODS: tuple[str, ...] = ("1y", "2y", "5y", "max")
DEFAULT_INTRADAY_INTERVAL: IntradayInterval = "5m"

# Yahoo spells one hour both ways; "60m" is how it is stored.
_ALIASES = {"1h": "60m"}


@dataclass(frozen=True)
class IntradaySpec:
    """What Yahoo allows for one intraday interval."""

    interval: str
    minutes: int
    lookback_days: int  # how far back Yahoo serves this interval at all
    max_days_per_request: int  # widest period1..period2 span Yahoo accepts

    @property
    def bar_length(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.lookback_days)


# Yahoo's limits, as its 422 answers state them: 1m "within the last 30 days" and "Only 8
# days worth of 1m granularity data ... per request"; 2m-90m "within the last 60 days";
# 60m/1h "within the last 730 days".
INTRADAY_SPECS: dict[str, IntradaySpec] = {
    "1m": IntradaySpec("1m", 1, 30, 8),
    "2m": IntradaySpec("2m", 2, 60, 60),
    "5m": IntradaySpec("5m", 5, 60, 60),
    "15m": IntradaySpec("15m", 15, 60, 60),
    "30m": IntradaySpec("30m", 30, 60, 60),
    "60m": IntradaySpec("60m", 60, 730, 730),
    "90m": IntradaySpec("90m", 90, 60, 60),
}


def normalize_intraday_interval(value: str) -> str:
    """The stored spelling of an intraday interval, or a clear error."""
    interval = _ALIASES.get(value.strip().lower(), value.strip().lower())
    if interval not in INTRADAY_SPECS:
        raise InvalidIntervalError(
            f"unknown intraday interval {value!r}: use one of "
            f"{', '.join([*INTRADAY_INTERVALS, '1h'])} (1h is the same as 60m); "
            f"for daily or weekly bars use sync-historical with 1d or 1wk"
        )
    return interval


def intraday_spec(value: str) -> IntradaySpec:
    return INTRADAY_SPECS[normalize_intraday_interval(value)]


def normalize_history_interval(value: str) -> str:
    interval = value.strip().lower()
    if interval not in HISTORY_INTERVALS:
        raise InvalidIntervalError(
            f"unknown history interval {value!r}: use 1d or 1wk; "
            f"intraday intervals ({', '.join(INTRADAY_INTERVALS)}) belong to sync-intraday"
        )
    return interval


def normalize_period(value: str) -> str:
    period = value.strip().lower()
    if period not in HISTORY_PERIODS:
        raise InvalidIntervalError(
            f"unknown period {value!r}: use one of {', '.join(HISTORY_PERIODS)}, "
            f"or give --start-date and --end-date"
        )
    return period
