from datetime import UTC, date, datetime, timedelta

import pytest

from stock_pipeline.domain import trading_calendar as cal
from stock_pipeline.domain.errors import InvalidDateRangeError


@pytest.mark.parametrize(
    ("day", "interval", "bars"),
    [
        (date(2026, 11, 25), "5m", 78),  # full day
        (date(2026, 11, 27), "5m", 42),  # day after Thanksgiving: 13:00 close
        (date(2026, 11, 25), "60m", 7),  # the last hourly bar is 30 minutes
        (date(2026, 11, 27), "1h", 4),
        (date(2026, 11, 25), "90m", 5),
        (date(2026, 11, 27), "90m", 3),
        (date(2026, 11, 25), "1m", 390),
        (date(2026, 11, 26), "5m", 0),  # Thanksgiving
        (date(2026, 11, 28), "5m", 0),  # Saturday
    ],
)
def test_expected_bars_follow_the_session(day: date, interval: str, bars: int) -> None:
    assert cal.expected_bar_count(day, interval) == bars


def test_bar_starts_are_utc_and_shift_with_daylight_saving() -> None:
    summer = cal.expected_bar_starts(date(2026, 10, 30), "5m")
    winter = cal.expected_bar_starts(date(2026, 11, 2), "5m")
    assert str(summer.tz) == "UTC"
    assert (summer[0].hour, summer[0].minute) == (13, 30)  # 09:30 EDT
    assert (winter[0].hour, winter[0].minute) == (14, 30)  # 09:30 EST
    assert (winter[-1].hour, winter[-1].minute) == (20, 55)


def test_sessions_skip_weekends_and_holidays() -> None:
    days = cal.sessions_between(date(2026, 11, 23), date(2026, 11, 30))
    assert days == [
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    assert cal.holidays_between(date(2026, 12, 1), date(2026, 12, 31)) == [date(2026, 12, 25)]
    assert cal.is_early_close(date(2026, 11, 27)) and not cal.is_early_close(date(2026, 11, 25))


def test_reversed_range_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidDateRangeError, match="after end date"):
        cal.sessions_between(date(2026, 11, 27), date(2026, 11, 1))


def test_latest_session_before_and_after_the_open() -> None:
    # 09:00 New York on a Monday: the session has not opened, the latest is Friday's.
    assert cal.latest_session(datetime(2026, 11, 30, 14, 0, tzinfo=UTC)) == date(2026, 11, 27)
    assert cal.latest_session(datetime(2026, 11, 30, 14, 31, tzinfo=UTC)) == date(2026, 11, 30)
    # 21:00 New York is already the next UTC day; still Monday's session.
    assert cal.latest_session(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) == date(2026, 11, 30)


def test_bars_closed_by_counts_only_finished_bars() -> None:
    day = date(2026, 11, 27)
    assert cal.bars_closed_by(day, "60m", datetime(2026, 11, 27, 15, 29, tzinfo=UTC)) == 0
    assert cal.bars_closed_by(day, "60m", datetime(2026, 11, 27, 15, 30, tzinfo=UTC)) == 1
    assert cal.bars_closed_by(day, "60m", datetime(2026, 11, 27, 18, 0, tzinfo=UTC)) == 4
    assert not cal.session_is_final(day, datetime(2026, 11, 27, 18, 0, tzinfo=UTC))  # the close


# 2026-11-25 closes at 16:00 New York (21:00 UTC); the default grace is 15 minutes.
CLOSE = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)


def test_an_answer_is_final_only_after_the_close_plus_the_grace_period() -> None:
    day = date(2026, 11, 25)
    assert cal.final_after(day) == CLOSE + timedelta(minutes=15)
    assert not cal.session_is_final(day, CLOSE)
    assert not cal.session_is_final(day, CLOSE + timedelta(minutes=5))
    assert cal.session_is_final(day, CLOSE + timedelta(minutes=15))
    assert cal.session_is_final(day, CLOSE + timedelta(minutes=20))
    assert cal.session_is_final(day, CLOSE, grace=timedelta(0))
    assert not cal.session_is_final(day, CLOSE + timedelta(minutes=20), timedelta(minutes=30))


def test_the_latest_final_session_waits_for_the_close_plus_grace() -> None:
    assert cal.latest_final_session(CLOSE + timedelta(minutes=14)) == date(2026, 11, 24)
    assert cal.latest_final_session(CLOSE + timedelta(minutes=15)) == date(2026, 11, 25)
    assert cal.latest_final_session(CLOSE, grace=timedelta(0)) == date(2026, 11, 25)
    # Thanksgiving (closed) and the Friday's 13:00 early close: final at 18:15 UTC.
    assert cal.latest_final_session(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)) == date(2026, 11, 25)
    assert cal.latest_final_session(datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == date(2026, 11, 27)


def test_a_year_is_final_after_its_last_session_closed_plus_grace() -> None:
    assert cal.last_session_of_year(2025) == date(2025, 12, 31)
    assert cal.last_session_of_year(2022) == date(2022, 12, 30)  # Dec 31 was a Saturday
    # 2025-12-31 closed at 16:00 New York, 21:00 UTC.
    assert cal.year_final_after(2025) == datetime(2025, 12, 31, 21, 15, tzinfo=UTC)
    assert cal.year_final_after(1985) == datetime(1986, 1, 1, tzinfo=cal.NEW_YORK)  # no calendar


def test_calendar_reaches_years_ahead() -> None:
    assert cal.nyse().last_session.year >= date.today().year + 5
