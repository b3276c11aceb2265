"""The partitions follow the clock: a process started a week ago sees this week's sessions.

Intraday: NYSE sessions from the window start (STOCK_PIPELINE_INTRADAY_WINDOW_DAYS calendar
days back, 63 by default), no holidays; history: years since 1980; both crossed with the
registered symbols.
"""

import os
import subprocess
import sys
from datetime import UTC, date, datetime

import dagster as dg
import pytest

from stock_pipeline import settings
from stock_pipeline.defs.partitions import (
    history_partitions,
    history_years,
    intraday_partitions,
    intraday_trading_days,
    trading_days,
    trading_days_partitions,
)
from stock_pipeline.domain.errors import InvalidSettingError
from stock_pipeline.domain.partition_keys import intraday_window_start
from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW


def test_the_suite_s_pinned_clock_is_the_fake_yahoo_s() -> None:
    assert os.environ["STOCK_PIPELINE_NOW"] == DEFAULT_TEST_NOW.isoformat()
    assert settings.now() == DEFAULT_TEST_NOW


def test_the_window_starts_63_days_back() -> None:
    assert settings.intraday_window_days() == 63  # the suite runs with the default
    assert trading_days.start.date() == date(2026, 9, 23)
    assert trading_days.start.date() == intraday_window_start(DEFAULT_TEST_NOW.date(), 63)


def test_a_window_built_a_week_ago_sees_the_sessions_since_and_no_holiday() -> None:
    built_a_week_ago = trading_days_partitions(intraday_window_start(date(2026, 11, 18), 63))
    keys = built_a_week_ago.get_partition_keys(current_time=datetime(2026, 12, 2, 15, tzinfo=UTC))
    assert keys[-3:] == ["2026-11-30", "2026-12-01", "2026-12-02"]  # today's session included
    assert "2026-11-26" not in keys  # Thanksgiving
    assert "2026-11-28" not in keys  # a Saturday
    assert keys[0] == "2026-09-16"  # its start stays until the process reloads: more, not fewer


WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0)
THANKSGIVING = "2026-11-26"


def test_the_window_starts_63_days_back_and_ends_today() -> None:
    keys = trading_days.get_partition_keys(current_time=WEDNESDAY_NOON)
    start = intraday_window_start(DEFAULT_TEST_NOW.date(), 63)  # the suite's pinned clock
    assert keys[0] == start.isoformat() == "2026-09-23"  # a Wednesday
    assert keys[-1] == "2026-11-25"  # today's session is a partition while it trades
    assert keys == [d.isoformat() for d in sessions_between(start, date(2026, 11, 25))]
    assert len(keys) == 46  # 82 sessions with the former 3-month window


def test_the_sensors_first_day_is_a_partition() -> None:
    """The sensors and `status` look back 60 days (less a day of margin): 2026-09-28."""
    keys = trading_days.get_partition_keys(current_time=WEDNESDAY_NOON)
    assert "2026-09-28" in keys and keys.index("2026-09-28") == 3


@pytest.mark.parametrize(("days", "first"), [("7", "2026-11-18"), ("90", "2026-08-27")])
def test_the_date_dimension_follows_the_setting(
    monkeypatch: pytest.MonkeyPatch, days: str, first: str
) -> None:
    monkeypatch.setenv(settings.INTRADAY_WINDOW_DAYS_ENV, days)
    keys = intraday_trading_days().get_partition_keys(current_time=WEDNESDAY_NOON)
    assert keys[0] == first and keys[-1] == "2026-11-25"
    monkeypatch.setenv(settings.INTRADAY_WINDOW_DAYS_ENV, "6")
    with pytest.raises(InvalidSettingError, match="STOCK_PIPELINE_INTRADAY_WINDOW_DAYS='6'"):
        intraday_trading_days()


def test_the_loaded_asset_s_partitions_follow_the_setting_of_the_process() -> None:
    """What Dagster loads (the asset's partitions, built at import) in a process started with
    the window set, as the webserver and daemon read it from their environment."""
    probe = (
        "from stock_pipeline.defs.assets.prices import intraday_prices as a;"
        "from datetime import datetime;"
        "d = a.partitions_def.get_partitions_def_for_dimension('date');"
        "print(d.get_partition_keys(current_time=datetime(2026, 11, 25, 12))[0])"
    )
    env = {**os.environ, settings.INTRADAY_WINDOW_DAYS_ENV: "365"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2025-11-25"  # a Tuesday, 365 days before the pinned clock


def test_holidays_and_weekends_are_no_partition() -> None:
    keys = trading_days_partitions(date(2026, 11, 2)).get_partition_keys(
        current_time=datetime(2026, 11, 30, 10, 0)
    )
    assert THANKSGIVING not in keys
    assert "2026-11-28" not in keys and "2026-11-29" not in keys
    assert keys[-4:] == ["2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    assert len(keys) == 20


def test_history_is_one_partition_per_year_since_1980() -> None:
    keys = history_years.get_partition_keys(current_time=WEDNESDAY_NOON)
    assert (keys[0], keys[-1], len(keys)) == ("1980", "2026", 47)


def test_price_partitions_cross_the_registered_symbols(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "KO"])
    intraday = intraday_partitions.get_partition_keys(
        current_time=WEDNESDAY_NOON, dynamic_partitions_store=instance
    )
    assert "2026-11-25|AAPL" in intraday and "2026-11-25|KO" in intraday
    assert f"{THANKSGIVING}|AAPL" not in intraday
    assert len(intraday) == 2 * len(trading_days.get_partition_keys(current_time=WEDNESDAY_NOON))
    history = history_partitions.get_partition_keys(
        current_time=WEDNESDAY_NOON, dynamic_partitions_store=instance
    )
    assert {"1980|AAPL", "2026|KO"} <= set(history) and len(history) == 2 * 47


@pytest.mark.parametrize("key", ["2026-11-26|AAPL", "2026-11-28|AAPL", "2025-01-02|AAPL"])
def test_keys_outside_the_sessions_are_not_valid(instance: dg.DagsterInstance, key: str) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL"])
    keys = intraday_partitions.get_partition_keys(
        current_time=WEDNESDAY_NOON, dynamic_partitions_store=instance
    )
    assert key not in keys
