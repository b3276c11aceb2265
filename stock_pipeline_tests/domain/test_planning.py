import math
from datetime import UTC, date, datetime

import pytest

from stock_pipeline.domain.errors import LookbackExceededError
from stock_pipeline.domain.planning import (
    check_lookback,
    cover_with_rectangles,
    plan_intraday_windows,
)
from stock_pipeline.domain.trading_calendar import sessions_between

DAYS = sessions_between(date(2026, 10, 29), date(2026, 11, 25))  # 20 sessions


def test_twenty_days_of_three_symbols_cost_three_requests() -> None:
    assert len(DAYS) == 20
    windows = plan_intraday_windows([(s, d) for s in ("AAPL", "MSFT", "IBM") for d in DAYS], "5m")
    assert len(windows) == 3
    assert {w.symbol for w in windows} == {"AAPL", "MSFT", "IBM"}
    assert all(w.sessions == tuple(DAYS) for w in windows)


def test_one_minute_windows_respect_the_eight_day_span() -> None:
    windows = plan_intraday_windows([("AAPL", d) for d in DAYS], "1m")
    for w in windows:
        assert (w.last - w.first).days + 1 <= 8
    assert sorted(d for w in windows for d in w.sessions) == DAYS
    assert len(windows) <= math.ceil(((DAYS[-1] - DAYS[0]).days + 1) / 8) + 1


def test_gaps_do_not_cost_extra_requests() -> None:
    windows = plan_intraday_windows([("AAPL", DAYS[0]), ("AAPL", DAYS[5])], "5m")
    assert len(windows) == 1 and windows[0].sessions == (DAYS[0], DAYS[5])


def test_lookback_is_refused_before_any_request() -> None:
    now = datetime(2026, 11, 28, 18, tzinfo=UTC)
    check_lookback(date(2026, 10, 1), "5m", now)
    with pytest.raises(LookbackExceededError, match="within the last 60 days"):
        check_lookback(date(2026, 9, 1), "5m", now)
    with pytest.raises(LookbackExceededError, match="within the last 30 days"):
        check_lookback(date(2026, 10, 20), "1m", now)
    check_lookback(date(2025, 6, 2), "1h", now)


def test_rectangles_cover_cells_exactly() -> None:
    cells = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (4, 0), (4, 1), (4, 2)}
    rects = cover_with_rectangles(cells)
    covered = [
        (s, d)
        for r in rects
        for s in range(r.first_symbol, r.last_symbol + 1)
        for d in range(r.first_date, r.last_date + 1)
    ]
    assert sorted(covered) == sorted(cells)  # exact: nothing extra, nothing twice
    assert len(rects) == 3


def test_full_grid_is_one_run_and_batch_size_splits_symbols() -> None:
    grid = [(s, d) for s in range(10) for d in range(5)]
    assert len(cover_with_rectangles(grid)) == 1
    rects = cover_with_rectangles(grid, max_symbols=4)
    assert [r.last_symbol - r.first_symbol + 1 for r in rects] == [4, 4, 2]
