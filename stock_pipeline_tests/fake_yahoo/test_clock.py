"""New York clock facts in the fake's answers: zone and offset, trading periods, market state."""

from datetime import UTC, date, datetime

import pytest

from stock_pipeline.fake_yahoo.clock import (
    current_trading_period,
    day_number,
    market_state,
    ny_date,
    ny_zone,
)


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_zone_and_offset_follow_daylight_saving() -> None:
    assert ny_zone(utc(2026, 7, 1, 12)) == ("EDT", -4 * 3600)
    assert ny_zone(utc(2026, 12, 1, 12)) == ("EST", -5 * 3600)


def test_the_new_york_date_is_not_the_utc_date_late_in_the_evening() -> None:
    assert ny_date(utc(2026, 11, 26, 3, 0)) == date(2026, 11, 25)
    assert day_number(date(1970, 1, 2)) == 1


@pytest.mark.parametrize(
    ("instant", "state"),
    [
        (utc(2026, 11, 25, 8, 0), "PREPRE"),  # 03:00 New York
        (utc(2026, 11, 25, 12, 0), "PRE"),  # 07:00
        (utc(2026, 11, 25, 15, 0), "REGULAR"),  # 10:00
        (utc(2026, 11, 25, 22, 0), "POST"),  # 17:00
        (utc(2026, 11, 26, 2, 0), "POSTPOST"),  # 21:00
        (utc(2026, 11, 26, 15, 0), "CLOSED"),  # Thanksgiving
        (utc(2026, 11, 27, 18, 30), "POST"),  # 13:30, after the early close
        (utc(2026, 11, 28, 15, 0), "CLOSED"),  # Saturday
    ],
)
def test_market_state(instant: float, state: str) -> None:
    assert market_state(instant) == state


def test_the_current_trading_period_is_today_s_or_the_next_session() -> None:
    wednesday = current_trading_period(utc(2026, 11, 25, 15, 0))["regular"]
    assert (wednesday["start"], wednesday["end"]) == (
        utc(2026, 11, 25, 14, 30),
        utc(2026, 11, 25, 21),
    )
    assert (wednesday["timezone"], wednesday["gmtoffset"]) == ("EST", -18000)
    on_thanksgiving = current_trading_period(utc(2026, 11, 26, 15, 0))
    assert on_thanksgiving["regular"]["start"] == utc(2026, 11, 27, 14, 30)
    assert on_thanksgiving["regular"]["end"] == utc(2026, 11, 27, 18, 0)  # 13:00 early close
    assert on_thanksgiving["pre"]["start"] == utc(2026, 11, 27, 9, 0)  # 04:00
    assert on_thanksgiving["post"]["end"] == utc(2026, 11, 27, 22, 0)  # close + 4 h
