"""Comparing stored daily bars with Yahoo's: tolerances, shared dates, missing values."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from stock_pipeline.domain.reverification import Tolerance, compare_daily, weekly_span_gap

DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


def bars(days: list[date] = DAYS, **changes: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": days,
            "open": [100.0] * len(days),
            "high": [101.0] * len(days),
            "low": [99.0] * len(days),
            "close": [100.5] * len(days),
            "adj_close": [98.25] * len(days),
            "volume": [1_000_000] * len(days),
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def test_float32_noise_is_within_tolerance() -> None:
    noisy = bars(close=[float(np.float32(100.5))] * 3, volume=[1_000_001] * 3)
    found = compare_daily(bars(), noisy)
    assert found.compared == 3 and found.differences == []


def test_a_corrected_close_is_one_difference_on_its_date() -> None:
    found = compare_daily(bars(), bars(close=[100.5, 100.6, 100.5]))
    assert [(d.day, d.column) for d in found.differences] == [(DAYS[1], "close")]
    assert found.dates == [DAYS[1]] and found.years == [2025]
    (line,) = found.lines()
    assert line == "2025-03-11: close stored 100.5, Yahoo 100.6"


@pytest.mark.parametrize(
    ("column", "fresh", "differs"),
    [
        ("close", 100.5 * (1 + 0.9e-4), False),
        ("close", 100.5 * (1 + 1.1e-4), True),
        ("adj_close", 98.25 * (1 + 0.9e-3), False),  # the dividend factor's own rounding
        ("adj_close", 98.25 * (1 + 1.1e-3), True),  # a missed 0.11% dividend
        ("volume", 1_000_099, False),
        ("volume", 1_000_101, True),
    ],
)
def test_tolerances(column: str, fresh: float, differs: bool) -> None:
    found = compare_daily(bars(days=DAYS[:1]), bars(days=DAYS[:1], **{column: [fresh]}))
    assert bool(found.differences) is differs


def test_volume_allows_one_share_of_rounding() -> None:
    assert Tolerance(1e-4, 1).within(3.0, 4.0)
    assert not Tolerance(1e-4, 1).within(3.0, 5.0)


def test_a_value_missing_on_one_side_differs_and_on_both_does_not() -> None:
    found = compare_daily(bars(open=[np.nan, np.nan, 100.0]), bars(open=[np.nan, 100.0, np.nan]))
    assert [(d.day, d.column) for d in found.differences] == [
        (DAYS[1], "open"),
        (DAYS[2], "open"),
    ]
    assert "stored missing, Yahoo 100" in found.lines()[0]


def test_only_shared_dates_are_compared() -> None:
    later = [date(2025, 3, 11), date(2025, 3, 12), date(2025, 3, 13)]
    found = compare_daily(bars(), bars(days=later, close=[1.0, 100.5, 1.0]))
    assert found.compared == 2
    assert [d.day for d in found.differences] == [date(2025, 3, 11)]
    assert compare_daily(bars(), bars().iloc[0:0]).compared == 0


def test_many_differing_dates_are_summarised() -> None:
    days = list(pd.bdate_range("2025-01-01", periods=30).date)
    found = compare_daily(bars(days), bars(days, close=[1.0] * 30))
    lines = found.lines(limit=5)
    assert len(lines) == 6 and lines[-1] == "… and 25 more date(s)"
    assert found.by_column() == {"close": 30}


def test_a_weekly_year_is_covered_by_the_daily_years_its_weekdays_fall_in() -> None:
    late = date(2026, 11, 27)  # the latest final session
    # 2025's weeks run 2025-01-06 to Sunday 2026-01-04: Friday 2026-01-02 needs 2026.
    assert weekly_span_gap(2025, {2025, 2026}, late) is None
    gap = weekly_span_gap(2025, {2024, 2025}, late)
    assert gap is not None and "2025-01-06 to 2026-01-04" in gap and "of 2026 " in gap
    # 2021's last week ends on Sunday 2022-01-02: no weekday of 2022 in it.
    assert weekly_span_gap(2021, {2021}, late) is None
    # The current year: covered up to the latest final session, not to its last Sunday.
    assert weekly_span_gap(2026, {2026}, late) is None
    assert weekly_span_gap(2026, {2025}, late) is not None
    # A year whose weeks had not begun when the answer arrived cannot be rebuilt.
    assert "no session" in (weekly_span_gap(2027, {2026, 2027}, late) or "")
