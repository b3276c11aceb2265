"""Partitions, defined once: trading days × symbols for intraday, years × symbols for history.

Dagster advises at most 100,000 partitions per asset. With 500 symbols:
- intraday: one partition per NYSE session over a rolling window of the last
  STOCK_PIPELINE_INTRADAY_WINDOW_DAYS calendar days (default 63: 40–46 sessions, so
  ≤ 23,000 partitions) — Yahoo's 60-day lookback for 2m–90m bars plus a margin, wider than
  the 30-day retention. Older sessions are not partitions; a UI backfill's validation
  builds every symbol × session key, so the window is kept as short as that allows. The
  start is computed when the code location loads: a long-running process keeps its start
  (and so a few older sessions) until it is reloaded;
- daily/weekly history: one partition per calendar year since 1980 (47 years ≈ 23,500
  partitions). A month grain would need 564 × 500 = 282,000 for full history.
Keys read ``2026-11-27|AAPL`` and ``2026|AAPL`` (dimension values sorted by name).
"""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.domain.partition_keys import (
    HISTORY_FIRST_YEAR,
    PARTITION_TIMEZONE,
    SYMBOLS,
    intraday_window_start,
)
from stock_pipeline.domain.trading_calendar import holidays_between, nyse

TIMEZONE = PARTITION_TIMEZONE

symbols_partitions = dg.DynamicPartitionsDefinition(name=SYMBOLS)


def trading_days_partitions(start: date) -> dg.TimeWindowPartitionsDefinition:
    """NYSE sessions from ``start``: weekdays minus exchange holidays, today included."""
    last_day = nyse().last_session.date()
    return dg.TimeWindowPartitionsDefinition(
        start=start.isoformat(),
        fmt="%Y-%m-%d",
        cron_schedule="0 0 * * 1-5",
        timezone=TIMEZONE,
        end_offset=1,  # today's session is a partition while it trades
        exclusions=[datetime(d.year, d.month, d.day) for d in holidays_between(start, last_day)],
    )


def intraday_trading_days() -> dg.TimeWindowPartitionsDefinition:
    """The intraday date dimension as configured: the window follows the clock
    (settings.now(): real time, or STOCK_PIPELINE_NOW when pinned) and reaches
    STOCK_PIPELINE_INTRADAY_WINDOW_DAYS back."""
    today = settings.now().date()
    return trading_days_partitions(intraday_window_start(today, settings.intraday_window_days()))


trading_days = intraday_trading_days()
history_years = dg.TimeWindowPartitionsDefinition(
    start=str(HISTORY_FIRST_YEAR),
    fmt="%Y",
    cron_schedule="0 0 1 1 *",
    timezone=TIMEZONE,
    end_offset=1,
)
intraday_partitions = dg.MultiPartitionsDefinition(
    {"date": trading_days, "symbol": symbols_partitions}
)
history_partitions = dg.MultiPartitionsDefinition(
    {"date": history_years, "symbol": symbols_partitions}
)
