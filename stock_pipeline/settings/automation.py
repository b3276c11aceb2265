"""Knobs of the schedules, sensors and alerts, read from the environment at tick time.

Read when a schedule or sensor evaluates (never at import), from the environment of the
process that evaluates it: in production the daemon's (see deploy/), in tests the test's.
A bad value fails the tick with a message naming the variable.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.retention import DEFAULT_KEEP_DAYS, first_kept_day
from stock_pipeline.domain.symbols import normalize_symbol
from stock_pipeline.domain.trading_calendar import DEFAULT_FINAL_GRACE
from stock_pipeline.settings import bounded_int

SYMBOLS_FILE_ENV = "STOCK_PIPELINE_SYMBOLS_FILE"
KEEP_DAYS_ENV = "STOCK_PIPELINE_INTRADAY_RETENTION_DAYS"
ALERT_WEBHOOK_ENV = "STOCK_PIPELINE_ALERT_WEBHOOK"
ALERT_TIMEOUT_ENV = "STOCK_PIPELINE_ALERT_TIMEOUT"
CURRENT_PRICES_MINUTES_ENV = "STOCK_PIPELINE_CURRENT_PRICES_MINUTES"
QUARANTINE_AFTER_ENV = "STOCK_PIPELINE_QUARANTINE_AFTER"
MISSING_MAX_PARTITIONS_ENV = "STOCK_PIPELINE_MISSING_MAX_PARTITIONS"
BACKFILL_PERIOD_ENV = "STOCK_PIPELINE_BACKFILL_PERIOD"
FINAL_GRACE_ENV = "STOCK_PIPELINE_FINAL_GRACE_MINUTES"
SHORT_REFETCHES_ENV = "STOCK_PIPELINE_SHORT_SESSION_REFETCHES"

DEFAULT_CURRENT_PRICES_MINUTES = 5
DEFAULT_QUARANTINE_AFTER = 3
DEFAULT_MISSING_MAX_PARTITIONS = 1000
DEFAULT_BACKFILL_PERIOD = "1y"
DEFAULT_ALERT_TIMEOUT_SECONDS = 10.0
DEFAULT_FINAL_GRACE_MINUTES = int(DEFAULT_FINAL_GRACE.total_seconds() // 60)
MAX_FINAL_GRACE_MINUTES = 24 * 60  # a day: Yahoo's bars settle within minutes
DEFAULT_SHORT_REFETCHES = 2
MAX_SHORT_REFETCHES = 20


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"${name}={raw!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"${name}={raw!r} must be at least 1")
    return value


def final_grace() -> timedelta:
    """How long after a session's close an answer must arrive to count as final.

    Yahoo still amends the last bars for a few minutes after the close; an answer that
    arrived earlier is provisional and is fetched again. Default 15 minutes.
    """
    minutes = bounded_int(
        FINAL_GRACE_ENV, DEFAULT_FINAL_GRACE_MINUTES, 0, MAX_FINAL_GRACE_MINUTES, "minutes"
    )
    return timedelta(minutes=minutes)


def short_session_refetches() -> int:
    """How many more times a final session that came back short is fetched before it is
    accepted as short (confirmed). Default 2; 0 accepts the first short answer."""
    return bounded_int(
        SHORT_REFETCHES_ENV, DEFAULT_SHORT_REFETCHES, 0, MAX_SHORT_REFETCHES, "re-fetches"
    )


def symbols_file() -> Path | None:
    """The declarative symbol list, or None when the registry itself is the list."""
    raw = os.environ.get(SYMBOLS_FILE_ENV, "").strip()
    return Path(raw) if raw else None


def alert_webhook() -> str | None:
    return os.environ.get(ALERT_WEBHOOK_ENV, "").strip() or None


def alert_timeout_seconds() -> float:
    raw = os.environ.get(ALERT_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_ALERT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"${ALERT_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"${ALERT_TIMEOUT_ENV}={raw!r} must be positive")
    return value


def current_prices_minutes() -> int:
    """Minutes between current-price refreshes while the market is open."""
    return _positive_int(CURRENT_PRICES_MINUTES_ENV, DEFAULT_CURRENT_PRICES_MINUTES)


def quarantine_after() -> int:
    """Consecutive not-found/empty runs after which a symbol is quarantined."""
    return _positive_int(QUARANTINE_AFTER_ENV, DEFAULT_QUARANTINE_AFTER)


def missing_max_partitions() -> int:
    """Most partitions the missing-partitions sensor requests in one tick."""
    return _positive_int(MISSING_MAX_PARTITIONS_ENV, DEFAULT_MISSING_MAX_PARTITIONS)


def backfill_period() -> str:
    """How many years of daily history a newly registered symbol gets (1y 2y 5y max)."""
    return os.environ.get(BACKFILL_PERIOD_ENV, "").strip() or DEFAULT_BACKFILL_PERIOD


def keep_days() -> int:
    """Days of intraday bars to keep, from the environment (read when a run starts)."""
    raw = os.environ.get(KEEP_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_KEEP_DAYS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"${KEEP_DAYS_ENV}={raw!r} is not a whole number of days") from None
    if value < 1:
        raise ValueError(f"${KEEP_DAYS_ENV}={raw!r} must be at least 1")
    return value


def retained_since(now: datetime) -> date:
    """The oldest session whose intraday bars are kept under the configured retention."""
    return first_kept_day(now, keep_days())


def read_symbol_file(path: Path) -> list[str]:
    """Symbols of a list file: one per line, ``#`` starts a comment, order kept."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise FileNotFoundError(
            f"cannot read the symbol list {path} (${SYMBOLS_FILE_ENV}): {exc}"
        ) from exc
    symbols: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            symbols.setdefault(normalize_symbol(value), None)
        except InvalidSymbolError as exc:
            raise InvalidSymbolError(f"{path}:{number}: {exc}") from exc
    if not symbols:
        raise InvalidSymbolError(
            f"{path} lists no symbols; refusing to unregister every symbol. Remove the "
            f"variable to manage symbols with `stock-pipeline symbols add/remove` instead"
        )
    return list(symbols)
