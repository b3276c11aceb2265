"""Knobs of the schedules, sensors and alerts, read from the environment at tick time.

Read when a schedule or sensor evaluates (never at import), from the environment of the
process that evaluates it: in production the daemon's (see deploy/), in tests the test's.
A bad value fails the tick with a message naming the variable.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.retention import DEFAULT_KEEP_DAYS, first_kept_day
from stock_pipeline.domain.symbols import normalize_symbol

SYMBOLS_FILE_ENV = "STOCK_PIPELINE_SYMBOLS_FILE"
KEEP_DAYS_ENV = "STOCK_PIPELINE_INTRADAY_RETENTION_DAYS"
ALERT_WEBHOOK_ENV = "STOCK_PIPELINE_ALERT_WEBHOOK"
ALERT_TIMEOUT_ENV = "STOCK_PIPELINE_ALERT_TIMEOUT"
CURRENT_PRICES_MINUTES_ENV = "STOCK_PIPELINE_CURRENT_PRICES_MINUTES"
QUARANTINE_AFTER_ENV = "STOCK_PIPELINE_QUARANTINE_AFTER"
MISSING_MAX_PARTITIONS_ENV = "STOCK_PIPELINE_MISSING_MAX_PARTITIONS"
BACKFILL_PERIOD_ENV = "STOCK_PIPELINE_BACKFILL_PERIOD"

DEFAULT_CURRENT_PRICES_MINUTES = 5
DEFAULT_QUARANTINE_AFTER = 3
DEFAULT_MISSING_MAX_PARTITIONS = 1000
DEFAULT_BACKFILL_PERIOD = "1y"
DEFAULT_ALERT_TIMEOUT_SECONDS = 10.0


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
