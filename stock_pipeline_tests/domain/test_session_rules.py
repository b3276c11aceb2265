from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from stock_pipeline.domain.bars import normalize_intraday
from stock_pipeline.domain.session_rules import (
    count_expectation,
    duplicate_violations,
    fewest_final_bars,
    missing_bars_tolerated,
    newest_bar_due,
    session_violations,
)
from stock_pipeline.domain.slice_state import SliceState
from stock_pipeline.fake_yahoo.pytest_plugin import load_yahoo_recording
from stock_pipeline_tests.support.frames import bars

NY = ZoneInfo("America/New_York")
FULL = date(2026, 11, 25)  # Wednesday before Thanksgiving
EARLY = date(2026, 11, 27)  # 13:00 close
LAG = timedelta(minutes=75)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def with_bar(frame: pd.DataFrame, when: datetime) -> pd.DataFrame:
    extra = frame.iloc[[0]].assign(ts=pd.Timestamp(when).tz_convert("UTC"))
    return pd.concat([frame, extra], ignore_index=True)


def rules(found: list) -> dict[str, int]:
    return {v.rule: v.rows for v in found}


def test_a_clean_session_breaks_no_rule() -> None:
    frame = bars("AAPL", FULL)
    assert session_violations(frame, FULL, "5m") == []
    assert duplicate_violations(frame, FULL, "5m") == []


@pytest.mark.parametrize(
    ("day", "when", "rule"),
    [
        (FULL, ny(FULL, 16, 0), "outside_session"),  # the close is not a bar start
        (FULL, ny(FULL, 9, 25), "outside_session"),  # pre-market
        (EARLY, ny(EARLY, 13, 0), "outside_session"),  # early close: 13:00 is after it
        (FULL, ny(FULL, 10, 2), "off_grid"),
    ],
)
def test_bars_outside_the_session_or_off_the_grid_are_counted(
    day: date, when: datetime, rule: str
) -> None:
    frame = with_bar(bars("AAPL", day), when)
    assert rules(session_violations(frame, day, "5m")) == {rule: 1}


def test_a_bar_dated_to_another_session_is_counted() -> None:
    frame = bars("AAPL", FULL)
    frame.loc[:2, "session_date"] = date(2026, 11, 24)
    assert rules(session_violations(frame, FULL, "5m")) == {"wrong_session_date": 3}


def test_the_last_bar_of_an_early_close_is_inside() -> None:
    frame = bars("AAPL", EARLY)
    assert frame["ts"].max() == pd.Timestamp(ny(EARLY, 12, 55)).tz_convert("UTC")
    assert session_violations(frame, EARLY, "5m") == []


def test_repeated_starts_and_shared_slots_are_duplicates() -> None:
    frame = with_bar(bars("AAPL", FULL), ny(FULL, 9, 30))  # same start again
    assert rules(duplicate_violations(frame, FULL, "5m")) == {"duplicate_ts": 1}
    frame = with_bar(bars("AAPL", FULL), ny(FULL, 9, 32))  # inside the 09:30 slot
    assert rules(duplicate_violations(frame, FULL, "5m")) == {"duplicate_slot": 1}


@pytest.mark.parametrize(
    ("day", "interval", "expected", "low"),
    [
        (FULL, "1m", 390, 387),  # 1% of 390, rounded down
        (FULL, "5m", 78, 77),  # at least one no-trade bar
        (FULL, "15m", 26, 26),  # a 15-minute bar always holds a trade: no tolerance
        (FULL, "60m", 7, 7),
        (EARLY, "5m", 42, 41),
        (EARLY, "60m", 4, 4),
        (EARLY, "90m", 3, 3),  # 09:30, 11:00, 12:30 (30 minutes)
    ],
)
def test_the_tolerance_for_dropped_no_trade_bars_is_relative_to_the_interval(
    day: date, interval: str, expected: int, low: int
) -> None:
    final = count_expectation(day, interval, ny(day, 17, 0))
    assert (final.expected, final.low, final.high, final.final) == (expected, low, expected, True)
    assert fewest_final_bars(day, interval) == low
    assert final.judge(expected) is None
    assert final.judge(low) is None
    short = final.judge(low - 1)
    assert short is not None and short.rule == "too_few_bars" and short.rows == 1
    extra = final.judge(expected + 2)
    assert extra is not None and extra.rule == "too_many_bars" and extra.rows == 2


def test_a_90m_early_close_with_two_of_three_bars_is_short() -> None:
    final = count_expectation(EARLY, "90m", ny(EARLY, 14, 0))
    assert final.final and final.expected == 3
    problem = final.judge(2)
    assert problem is not None and problem.rule == "too_few_bars" and problem.rows == 1
    state = SliceState("AAPL", EARLY, 2, 3, True, fewest=fewest_final_bars(EARLY, "90m"))
    assert state.status == "short"


def test_a_1m_day_missing_two_of_390_bars_is_not_short() -> None:
    final = count_expectation(FULL, "1m", ny(FULL, 17, 0))
    assert final.judge(388) is None
    state = SliceState("AAPL", FULL, 388, 390, True, fewest=fewest_final_bars(FULL, "1m"))
    assert state.status == "complete"


def test_an_answer_within_the_grace_period_after_the_close_is_provisional() -> None:
    # 16:05: every bar has closed, but Yahoo may still amend them; 16:20 is final.
    early = count_expectation(FULL, "5m", ny(FULL, 16, 5))
    assert not early.final and (early.low, early.high) == (77, 78)
    assert count_expectation(FULL, "5m", ny(FULL, 16, 20)).final
    assert not count_expectation(FULL, "5m", ny(FULL, 16, 20), timedelta(minutes=30)).final


def test_real_yahoo_day_with_a_dropped_null_bar_counts_as_complete() -> None:
    """AAPL 1m on 2024-10-02 as Yahoo sent it: 390 bars, one all-null (dropped)."""
    body = load_yahoo_recording("chart_AAPL_1m_2024-10-02_regular")
    result = body["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    raw = pd.DataFrame(
        {k.capitalize(): quote[k] for k in ("open", "high", "low", "close", "volume")},
        index=pd.to_datetime(result["timestamp"], unit="s", utc=True).tz_convert(NY),
    )
    day = date(2024, 10, 2)
    frame = normalize_intraday(raw, "AAPL", "1m", [day])
    assert len(frame) == 389
    expectation = count_expectation(day, "1m", datetime(2024, 10, 4, tzinfo=UTC))
    assert expectation.expected == 390
    assert expectation.judge(len(frame)) is None
    assert session_violations(frame, day, "1m") == []
    assert duplicate_violations(frame, day, "1m") == []


def test_a_provisional_session_is_judged_by_the_bars_closed_when_fetched() -> None:
    # Fetched at 11:02: 18 bars (09:30 … 10:55) had closed; the 11:00 bar was forming.
    provisional = count_expectation(FULL, "5m", ny(FULL, 11, 2))
    assert (provisional.low, provisional.high, provisional.final) == (17, 19, False)
    assert provisional.judge(19) is None
    assert provisional.judge(18) is None
    too_many = provisional.judge(78)
    assert too_many is not None and too_many.rule == "too_many_bars"
    before_open = count_expectation(FULL, "5m", ny(FULL, 9, 0))
    assert (before_open.low, before_open.high) == (0, 1)


def test_tolerance_is_nothing_for_an_empty_expectation_or_a_long_bar() -> None:
    assert missing_bars_tolerated(0, "1m") == 0
    assert missing_bars_tolerated(99, "1m") == 1
    assert missing_bars_tolerated(390, "1m") == 3
    assert missing_bars_tolerated(78, "5m") == 1
    assert missing_bars_tolerated(26, "15m") == 0
    assert missing_bars_tolerated(3, "90m") == 0


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (ny(FULL, 11, 29), ny(FULL, 10, 5)),  # 10:14 minus lag: the 10:05 bar closed
        (ny(FULL, 17, 15), ny(FULL, 15, 55)),  # after the close: the last bar
        (ny(FULL, 21, 30), ny(FULL, 15, 55)),  # already Thursday in UTC
        (ny(date(2026, 11, 26), 12, 0), ny(FULL, 15, 55)),  # Thanksgiving: nothing new
        (ny(EARLY, 15, 0), ny(EARLY, 12, 55)),  # early close
        (ny(date(2026, 11, 28), 12, 0), ny(EARLY, 12, 55)),  # Saturday
        (ny(date(2026, 11, 30), 9, 40), ny(EARLY, 12, 55)),  # Monday before the open + lag
        (ny(date(2026, 11, 30), 10, 50), ny(date(2026, 11, 30), 9, 30)),
        (ny(date(2026, 3, 6), 11, 29), ny(date(2026, 3, 6), 10, 5)),  # EST
        (ny(date(2026, 3, 9), 11, 29), ny(date(2026, 3, 9), 10, 5)),  # EDT, after the change
        (ny(date(2026, 11, 2), 11, 29), ny(date(2026, 11, 2), 10, 5)),  # EST again
    ],
)
def test_newest_bar_due_moves_only_while_a_session_trades(now: datetime, due: datetime) -> None:
    assert newest_bar_due(now, "5m", LAG) == pd.Timestamp(due).tz_convert("UTC")
