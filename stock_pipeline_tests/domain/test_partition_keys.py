"""Partition keys as values: written and read back the way Dagster joins them, bad ones refused."""

from datetime import UTC, date, datetime, timedelta

import pytest

from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.intervals import (
    DEFAULT_INTRADAY_INTERVAL,
    INTRADAY_INTERVALS,
    intraday_spec,
)
from stock_pipeline.domain.partition_keys import (
    DEFAULT_INTRADAY_WINDOW_DAYS,
    SymbolDay,
    SymbolYear,
    history_key,
    intraday_key,
    intraday_window_start,
    parse_history_keys,
    parse_intraday_keys,
    split_key,
    symbol_of,
)
from stock_pipeline.domain.repair_plan import lookback_sessions
from stock_pipeline.domain.trading_calendar import sessions_between


def test_intraday_keys_round_trip_sorted_by_symbol_then_day() -> None:
    keys = [intraday_key("MSFT", date(2026, 11, 24)), "2026-11-27|aapl", "2026-11-24|AAPL"]
    assert keys[0] == "2026-11-24|MSFT"
    parsed = parse_intraday_keys(keys)
    assert parsed == [
        SymbolDay("AAPL", date(2026, 11, 24)),
        SymbolDay("AAPL", date(2026, 11, 27)),
        SymbolDay("MSFT", date(2026, 11, 24)),
    ]
    assert [p.key for p in parsed] == ["2026-11-24|AAPL", "2026-11-27|AAPL", "2026-11-24|MSFT"]


def test_history_keys_round_trip() -> None:
    assert history_key("BRK-B", 1980) == "1980|BRK-B"
    parsed = parse_history_keys(["2026|KO", "1980|brk-b"])
    assert parsed == [SymbolYear("BRK-B", 1980), SymbolYear("KO", 2026)]
    assert [p.key for p in parsed] == ["1980|BRK-B", "2026|KO"]


def test_split_key_and_symbol_of() -> None:
    assert split_key("2026-11-27|AAPL") == ("2026-11-27", "AAPL")
    assert split_key("2026|AAPL") == ("2026", "AAPL")
    assert symbol_of("2026-11-27|AAPL") == "AAPL"
    assert symbol_of("AAPL") is None  # an unpartitioned or symbols-only key
    with pytest.raises(ValueError, match=r"not of the form 'DATE\|SYMBOL'"):
        split_key("AAPL")


@pytest.mark.parametrize(
    ("key", "error", "says"),
    [
        ("2026-11-27", ValueError, "not of the form"),
        ("2026-13-01|AAPL", ValueError, "month"),
        ("27/11/2026|AAPL", ValueError, "Invalid isoformat"),
        ("2026-11-27|AA;PL", InvalidSymbolError, "characters"),
        ("2026-11-27|", InvalidSymbolError, "empty"),
    ],
)
def test_malformed_intraday_keys_are_refused(key: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        parse_intraday_keys([key])


@pytest.mark.parametrize("key", ["twenty|AAPL", "2026-11-27|AAPL", "AAPL"])
def test_malformed_history_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        parse_history_keys([key])


@pytest.mark.parametrize(
    ("today", "days", "start"),
    [
        (date(2026, 11, 25), 63, date(2026, 9, 23)),  # the suite's clock, the default
        (date(2026, 11, 26), 63, date(2026, 9, 24)),  # a day at a time, not a month
        (date(2026, 3, 1), 63, date(2025, 12, 28)),  # across New Year
        (date(2028, 3, 1), 63, date(2027, 12, 29)),  # and a leap day
        (date(2026, 11, 25), 7, date(2026, 11, 18)),
        (date(2026, 11, 25), 730, date(2024, 11, 25)),
        (date(2026, 11, 25), 0, date(2026, 11, 25)),  # today only
    ],
)
def test_the_intraday_window_starts_so_many_calendar_days_back(
    today: date, days: int, start: date
) -> None:
    assert intraday_window_start(today, days) == start


def test_a_window_cannot_reach_forward() -> None:
    with pytest.raises(ValueError, match="-1 days"):
        intraday_window_start(date(2026, 11, 25), -1)


def test_the_default_window_is_yahoo_s_60_day_lookback_and_a_margin() -> None:
    lookback = intraday_spec(DEFAULT_INTRADAY_INTERVAL).lookback_days
    assert (lookback, DEFAULT_INTRADAY_WINDOW_DAYS) == (60, 63)


# Two years, every 13 hours (so every hour of the day in turn): times that put the UTC date
# (the window's "today") a day after New York's (evenings) or on it, across weekends,
# holidays and both DST changes.
NOWS = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 2 * 366 * 24, 13)]
NOT_RETAINED = date(2000, 1, 1)  # retention is not what the window is checked against


def test_the_default_window_holds_every_day_the_sensors_repair() -> None:
    """The sensors look back over Yahoo's lookback at 5m (60 days, less a day) among the
    partitions: a window that cut into it would silently leave its oldest days unrepaired.
    The other intervals the default covers (1m-90m but 60m) reach no further back."""
    assert {intraday_spec(i).lookback_days for i in INTRADAY_INTERVALS} - {30, 60} == {730}
    for now in NOWS:
        start = intraday_window_start(now.date(), DEFAULT_INTRADAY_WINDOW_DAYS)
        unbounded = sessions_between(start - timedelta(days=30), now.date())
        examined = lookback_sessions(now, DEFAULT_INTRADAY_INTERVAL, unbounded, NOT_RETAINED)
        assert examined and examined[0] >= start, now
