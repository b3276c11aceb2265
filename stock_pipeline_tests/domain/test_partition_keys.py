"""Partition keys as values: written and read back the way Dagster joins them, bad ones refused."""

from datetime import date

import pytest

from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.partition_keys import (
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
    ("today", "months", "start"),
    [
        (date(2026, 11, 25), 3, date(2026, 8, 1)),
        (date(2026, 11, 1), 3, date(2026, 8, 1)),
        (date(2026, 11, 30), 3, date(2026, 8, 1)),  # a month at a time, not a day
        (date(2026, 2, 10), 3, date(2025, 11, 1)),  # across New Year
        (date(2026, 3, 31), 3, date(2025, 12, 1)),
        (date(2026, 1, 15), 1, date(2025, 12, 1)),
        (date(2026, 11, 25), 7, date(2026, 4, 1)),
        (date(2026, 7, 31), 7, date(2025, 12, 1)),
        (date(2026, 1, 15), 12, date(2025, 1, 1)),
        (date(2026, 11, 25), 24, date(2024, 11, 1)),
        (date(2026, 11, 25), 0, date(2026, 11, 1)),  # this month only
    ],
)
def test_the_intraday_window_starts_on_the_first_of_the_month_so_many_months_back(
    today: date, months: int, start: date
) -> None:
    assert intraday_window_start(today, months) == start


def test_a_window_cannot_reach_forward() -> None:
    with pytest.raises(ValueError, match="-1 months"):
        intraday_window_start(date(2026, 11, 25), -1)
