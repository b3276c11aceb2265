"""Weekly bars from daily bars: the year each week belongs to, and the aggregate itself."""

from datetime import date, timedelta

import pandas as pd
import pytest

from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.domain.weeks import (
    basis_day,
    history_span,
    week_of,
    weekly_from_daily,
    year_weeks,
)


def test_a_week_belongs_to_the_year_of_its_monday() -> None:
    # 2025-01-01 is a Wednesday: its week (Monday 2024-12-30) is 2024's last.
    assert year_weeks(2024) == (date(2024, 1, 1), date(2025, 1, 5))
    assert year_weeks(2025) == (date(2025, 1, 6), date(2026, 1, 4))
    assert year_weeks(2026) == (date(2026, 1, 5), date(2027, 1, 3))
    assert week_of(date(2025, 1, 3)) == date(2024, 12, 30)
    assert basis_day(date(2024, 12, 30)) == date(2025, 1, 5)
    assert history_span(2025, "1d") == (date(2025, 1, 1), date(2025, 12, 31))
    assert history_span(2025, "1wk") == year_weeks(2025)


def test_every_session_lies_in_exactly_one_year_of_weeks() -> None:
    years = range(2000, 2031)
    for year in years[:-1]:  # consecutive years meet without gap or overlap
        assert year_weeks(year)[1] + timedelta(days=1) == year_weeks(year + 1)[0]
    for day in sessions_between(date(2001, 1, 1), date(2029, 12, 31)):
        owners = [y for y in years if year_weeks(y)[0] <= day <= year_weeks(y)[1]]
        assert owners == [week_of(day).year], day


def daily(rows: list[tuple[str, float, float, float, float, int, float]]) -> pd.DataFrame:
    """Canonical 1d rows: (date, open, high, low, close, volume, split)."""
    return pd.DataFrame(
        {
            "symbol": "WKS",
            "interval": "1d",
            "date": [date.fromisoformat(r[0]) for r in rows],
            "open": [r[1] for r in rows],
            "high": [r[2] for r in rows],
            "low": [r[3] for r in rows],
            "close": [r[4] for r in rows],
            "adj_close": [r[4] * 0.9 for r in rows],
            "volume": [r[5] for r in rows],
            "dividends": [0.5 if r[0] == "2025-01-02" else 0.0 for r in rows],
            "stock_splits": [r[6] for r in rows],
        }
    )


def test_a_week_across_new_year_is_one_bar_dated_on_its_monday() -> None:
    frame = daily(
        [
            ("2024-12-30", 10, 12, 9, 11, 100, 0),
            ("2024-12-31", 11, 13, 10, 12, 200, 0),
            ("2025-01-02", 12, 15, 11, 14, 300, 0),
            ("2025-01-03", 14, 14, 8, 9, 400, 0),
            ("2025-01-06", 9, 10, 9, 10, 50, 0),
        ]
    )
    weekly = weekly_from_daily(frame)
    assert weekly["date"].tolist() == [date(2024, 12, 30), date(2025, 1, 6)]
    first = weekly.iloc[0]
    assert (first.open, first.high, first.low, first.close) == (10, 15, 8, 9)
    assert first.volume == 1000 and first.adj_close == pytest.approx(9 * 0.9)
    assert first.dividends == 0.5 and first.stock_splits == 0
    assert set(weekly["interval"]) == {"1wk"}


def test_a_week_with_a_split_inside_is_on_the_basis_after_it() -> None:
    # As traded: 200 before the 4:1 split on Wednesday, 50 after.
    frame = daily(
        [
            ("2026-06-08", 200, 204, 198, 202, 1000, 0),
            ("2026-06-09", 202, 206, 200, 204, 1000, 0),
            ("2026-06-10", 51, 52, 49, 50, 4400, 4),
            ("2026-06-12", 50, 53, 50, 52.5, 4000, 0),
        ]
    )
    weekly = weekly_from_daily(frame, [(date(2026, 6, 10), 4.0)], decimals=6)
    (bar,) = weekly.itertuples()
    assert (bar.open, bar.high, bar.low, bar.close) == (50.0, 53.0, 49.0, 52.5)
    assert bar.volume == 4000 + 4000 + 4400 + 4000
    assert bar.stock_splits == 4.0
    # A split in a later week changes nothing here: the rows are as traded.
    later = weekly_from_daily(frame, [(date(2026, 6, 10), 4.0), (date(2026, 7, 1), 2.0)])
    assert later["close"].tolist() == [52.5] and later["open"].tolist() == [50.0]
