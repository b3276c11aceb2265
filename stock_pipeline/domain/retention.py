"""How long intraday bars are kept (the seed deleted rows older than 30 days). No Dagster.

Bars of a session dated more than ``keep_days`` calendar days before today (New York) are
deleted; everything from ``first_kept_day`` on is kept. Whatever re-fetches missing
sessions must not reach back before that day, or it would fetch what retention deletes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from stock_pipeline.domain.trading_calendar import NEW_YORK

DEFAULT_KEEP_DAYS = 30


def first_kept_day(now: datetime, keep_days: int) -> date:
    """The oldest session date whose intraday bars are kept at ``now``."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, not {keep_days}")
    return now.astimezone(NEW_YORK).date() - timedelta(days=keep_days)
