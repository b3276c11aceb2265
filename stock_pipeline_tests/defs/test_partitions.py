"""The partitions follow the clock: a process started a week ago sees this week's sessions."""

import os
from datetime import UTC, date, datetime

from stock_pipeline import settings
from stock_pipeline.defs.partitions import trading_days, trading_days_partitions
from stock_pipeline.domain.partition_keys import intraday_window_start
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW


def test_the_suite_s_pinned_clock_is_the_fake_yahoo_s() -> None:
    assert os.environ["STOCK_PIPELINE_NOW"] == DEFAULT_TEST_NOW.isoformat()
    assert settings.now() == DEFAULT_TEST_NOW


def test_the_window_starts_on_the_first_of_the_month_seven_months_back() -> None:
    assert intraday_window_start(date(2026, 11, 25)) == date(2026, 4, 1)
    assert intraday_window_start(date(2026, 3, 31)) == date(2025, 8, 1)
    assert trading_days.start.date() == intraday_window_start(DEFAULT_TEST_NOW.date())


def test_a_window_built_a_week_ago_sees_the_sessions_since_and_no_holiday() -> None:
    built_a_week_ago = trading_days_partitions(intraday_window_start(date(2026, 11, 18)))
    keys = built_a_week_ago.get_partition_keys(current_time=datetime(2026, 12, 2, 15, tzinfo=UTC))
    assert keys[-3:] == ["2026-11-30", "2026-12-01", "2026-12-02"]  # today's session included
    assert "2026-11-26" not in keys  # Thanksgiving
    assert "2026-11-28" not in keys  # a Saturday
