"""Reading a chart query the way Yahoo does, and Yahoo's refusals (400, 404, 422).

Lookbacks come from the project's ``INTRADAY_SPECS``: a ``period1`` older than the
interval allows, or a 1m window wider than 8 days, answers 422 with Yahoo's text; a
``range`` is clamped to what Yahoo serves instead.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stock_pipeline.domain.intervals import intraday_spec
from stock_pipeline.domain.trading_calendar import NEW_YORK
from stock_pipeline.fake_yahoo.clock import ny_date
from stock_pipeline.fake_yahoo.market import session_table

INTRADAY_MINUTES = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "60m": 60, "90m": 90, "1h": 60}
LONG_INTERVALS = ("1d", "5d", "1wk", "1mo", "3mo")
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
_RANGE_MONTHS = {"1mo": 1, "3mo": 3, "6mo": 6, "1y": 12, "2y": 24, "5y": 60, "10y": 120}
_ONE_M_MAX_SPAN = 8 * 86_400


def dumps(obj: Any) -> bytes:
    """Compact JSON, as Yahoo sends it."""
    return json.dumps(obj, separators=(",", ":")).encode()


def error_body(code: str, description: str) -> bytes:
    return dumps({"chart": {"result": None, "error": {"code": code, "description": description}}})


NOT_FOUND_BODY = error_body("Not Found", "No data found, symbol may be delisted")


class ChartError(Exception):
    """A request Yahoo refuses, with its status and its error envelope."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = error_body(code, description)


@dataclass(frozen=True)
class ChartRequest:
    symbol: str
    interval: str
    p1: int
    p2: int
    range: str  # "" when period1/period2 were given
    prepost: bool
    events: str

    @property
    def intraday(self) -> bool:
        return self.interval in INTRADAY_MINUTES

    @property
    def is_tz_probe(self) -> bool:
        """yfinance's first call for a symbol: ``range=1d&interval=1d``."""
        return self.range == "1d" and self.interval == "1d"


def _months_back(now_s: float, months: int) -> int:
    local = datetime.fromtimestamp(now_s, NEW_YORK)
    total = local.year * 12 + local.month - 1 - months
    year, month = divmod(total, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return int(local.replace(year=year, month=month + 1, day=day).timestamp())


def _range_start(rng: str, now_s: float) -> int:
    tab = session_table()
    latest = max(tab.latest_started(now_s), 0)
    if rng == "1d":
        return int(tab.opens[latest])
    if rng == "5d":
        return int(tab.opens[max(latest - 4, 0)])
    if rng == "ytd":
        year = ny_date(now_s).year
        return int(datetime(year, 1, 1, tzinfo=NEW_YORK).timestamp())
    if rng == "max":
        return 0
    return _months_back(now_s, _RANGE_MONTHS[rng])


def _int_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(float(str(value)))
    except ValueError as exc:
        raise ChartError(400, "Bad Request", f"Invalid input - {name}={value}") from exc


def parse_request(symbol: str, params: dict[str, str], now_s: float) -> ChartRequest:
    """Read a chart query the way Yahoo does, raising its 400/422 refusals."""
    interval = params.get("interval", "1d") or "1d"
    if interval not in INTRADAY_MINUTES and interval not in LONG_INTERVALS:
        raise ChartError(
            400,
            "Bad Request",
            f"Invalid input - interval={interval} is not supported. Valid intervals: "
            "[1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 4h, 1d, 5d, 1wk, 1mo, 3mo]",
        )
    p1, p2 = _int_param(params, "period1"), _int_param(params, "period2")
    rng = "" if p1 is not None else (params.get("range") or "1d")
    if rng and rng not in VALID_RANGES:
        raise ChartError(
            400,
            "Bad Request",
            f"Invalid input - range={rng} is not supported. "
            f"Valid ranges: [{', '.join(VALID_RANGES)}]",
        )
    if rng:
        p1, p2 = _range_start(rng, now_s), int(now_s) + 1
    assert p1 is not None
    p2 = int(now_s) + 1 if p2 is None else p2
    if p1 > p2:
        raise ChartError(
            400,
            "Bad Request",
            "Invalid input - start date cannot be after end date. "
            f"startDate = {p1}, endDate = {p2}",
        )
    if interval in INTRADAY_MINUTES:
        spec = intraday_spec(interval)
        oldest = int(now_s - spec.lookback.total_seconds())
        if rng:  # ranges are clamped to what Yahoo serves rather than refused
            p1 = max(p1, oldest + 60)
            if interval == "1m":
                p1 = max(p1, p2 - _ONE_M_MAX_SPAN)
        elif p1 < oldest:
            raise ChartError(
                422,
                "Unprocessable Entity",
                f"{interval} data not available for startTime={p1} and endTime={p2}. "
                f"The requested range must be within the last {spec.lookback_days} days.",
            )
        elif interval == "1m" and p2 - p1 > _ONE_M_MAX_SPAN:
            raise ChartError(
                422,
                "Unprocessable Entity",
                "Only 8 days worth of 1m granularity data are allowed to be fetched per request.",
            )
    prepost = str(params.get("includePrePost", "false")).lower() == "true"
    return ChartRequest(symbol, interval, p1, p2, rng, prepost, params.get("events", ""))
