"""The calendar questions the schedules ask, at fixed instants (UTC unless stated)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from stock_pipeline.domain import market_schedule as ms
from stock_pipeline.domain.trading_calendar import NEW_YORK, is_session, session_close, session_open


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ny_times(instants: list[datetime]) -> list[str]:
    return [ms.ny_clock(i) for i in instants]


def open_and_close(day: date) -> tuple[datetime, datetime]:
    return session_open(day), session_close(day)


def test_a_full_day_has_seven_hourly_syncs_ending_with_the_close() -> None:
    instants = ms.hourly_sync_instants(date(2026, 11, 24))
    assert ny_times(instants) == ["10:30", "11:30", "12:30", "13:30", "14:30", "15:30", "16:00"]
    assert instants[-1] == open_and_close(date(2026, 11, 24))[1] == utc(2026, 11, 24, 21)
    assert all(i.tzinfo is not None and i.utcoffset() == timedelta(0) for i in instants)


def test_an_early_close_has_four_hourly_syncs_ending_at_one() -> None:
    instants = ms.hourly_sync_instants(date(2026, 11, 27))
    assert ny_times(instants) == ["10:30", "11:30", "12:30", "13:00"]
    assert open_and_close(date(2026, 11, 27)) == (utc(2026, 11, 27, 14, 30), instants[-1])


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 26), "2026-11-26: NYSE closed (Thanksgiving)"),
        (date(2026, 12, 25), "2026-12-25: NYSE closed (Christmas)"),
        (date(2026, 11, 28), "2026-11-28: NYSE closed (Saturday)"),
        (date(2026, 11, 29), "2026-11-29: NYSE closed (Sunday)"),
        (date(2025, 1, 9), "2025-01-09: NYSE closed (special closure)"),  # a day of mourning
        (date(2026, 11, 27), None),
    ],
)
def test_closed_days_name_their_reason(day: date, reason: str | None) -> None:
    assert ms.closed_reason(day) == reason


def test_a_holiday_has_no_syncs_and_no_open() -> None:
    assert ms.hourly_sync_instants(date(2026, 11, 26)) == []
    assert not is_session(date(2026, 11, 26))
    for decide in (ms.decide_open, ms.decide_hourly, ms.decide_close):
        decision = decide(utc(2026, 11, 26, 15, 30))
        assert not decision.runs
        assert decision.skip_reason == "2026-11-26: NYSE closed (Thanksgiving)"


@pytest.mark.parametrize(
    ("day", "open_utc"),
    [
        (date(2026, 3, 6), utc(2026, 3, 6, 14, 30)),  # Friday before clocks go forward: EST
        (date(2026, 3, 9), utc(2026, 3, 9, 13, 30)),  # Monday after: EDT
        (date(2026, 10, 30), utc(2026, 10, 30, 13, 30)),  # Friday before clocks go back: EDT
        (date(2026, 11, 2), utc(2026, 11, 2, 14, 30)),  # Monday after: EST
    ],
)
def test_daylight_saving_weeks_keep_09_30_new_york(day: date, open_utc: datetime) -> None:
    opened, closed = open_and_close(day)
    assert opened == open_utc
    assert closed == open_utc + timedelta(hours=6, minutes=30)
    assert ms.decide_open(open_utc).runs and ms.decide_open(open_utc).day == day
    instants = ms.hourly_sync_instants(day)
    assert ny_times(instants)[0] == "10:30" and instants[0] == open_utc + timedelta(hours=1)
    assert all(ms.decide_hourly(i).runs for i in instants)
    # The other offset's 09:30 is an hour off: not the open on this day.
    assert not ms.decide_open(open_utc + timedelta(hours=1)).runs


def test_late_evening_new_york_is_not_the_next_utc_day() -> None:
    evening = utc(2026, 11, 25, 2, 30)  # 2026-11-24 21:30 New York
    assert ms.new_york_date(evening) == date(2026, 11, 24)
    assert not ms.is_market_open(evening)
    for decide in (ms.decide_open, ms.decide_hourly, ms.decide_close):
        decision = decide(evening)
        assert decision.day == date(2026, 11, 24) and not decision.runs
        assert decision.skip_reason is not None
        assert decision.skip_reason.startswith("2026-11-24 21:30")
    # The same wall time given in New York terms answers the same.
    assert ms.decide_hourly(evening.astimezone(NEW_YORK)) == ms.decide_hourly(evening)


def test_market_open_is_half_open_between_open_and_close() -> None:
    opened, closed = open_and_close(date(2026, 11, 27))
    assert not ms.is_market_open(opened - timedelta(seconds=1))
    assert ms.is_market_open(opened)
    assert ms.is_market_open(closed - timedelta(seconds=1))
    assert not ms.is_market_open(closed)  # 13:00 on the early close
    assert not ms.is_market_open(utc(2026, 11, 27, 20))  # 15:00: a full day would trade
    assert not ms.is_market_open(utc(2026, 11, 28, 15))  # Saturday


def test_instants_that_are_not_bar_closes_are_skipped_with_why() -> None:
    full_day_one_pm = ms.decide_hourly(utc(2026, 11, 24, 18))
    assert full_day_one_pm.skip_reason == (
        "2026-11-24 13:00: no hourly bar closes then; they close at 10:30, 11:30, 12:30, "
        "13:30, 14:30, 15:30, 16:00"
    )
    after_early_close = ms.decide_hourly(utc(2026, 11, 27, 20, 30))
    assert after_early_close.skip_reason == (
        "2026-11-27 15:30: the session closed at 13:00 (early close)"
    )
    assert ms.decide_close(utc(2026, 11, 27, 18)).runs
    assert ms.decide_close(utc(2026, 11, 27, 21)).skip_reason == (
        "2026-11-27 16:00: the session closes at 13:00"
    )
    assert ms.decide_close(utc(2026, 11, 24, 18)).skip_reason == (
        "2026-11-24 13:00: the session closes at 16:00"
    )


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        ms.is_market_open(datetime(2026, 11, 24, 15))
