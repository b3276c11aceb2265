"""YahooClient: yfinance calls with typed errors, retries, rate limits and request counts.

No Dagster here; ``stock_pipeline.defs.resources.YahooFinanceResource`` wraps it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yfinance as yf
import yfinance.cache as yfcache
import yfinance.data as yfdata

from stock_pipeline import settings
from stock_pipeline.domain import stopping
from stock_pipeline.domain.bars import empty_intraday, normalize_daily, normalize_intraday
from stock_pipeline.domain.corporate_actions import chart_events
from stock_pipeline.domain.errors import (
    ConfigurationError,
    InvalidDateRangeError,
    NoDataError,
    RateLimitedError,
)
from stock_pipeline.domain.instruments import Instrument, round_price
from stock_pipeline.domain.intervals import (
    intraday_spec,
    normalize_history_interval,
    normalize_period,
)
from stock_pipeline.domain.planning import FetchWindow, check_lookback, window_bounds
from stock_pipeline.yahoo.errors import classify
from stock_pipeline.yahoo.session import ACTIONS_QUERY, RequestMeter, YahooSession

log = logging.getLogger(__name__)
T = TypeVar("T")

QUOTE_URL = "https://query1.finance.yahoo.com/v7/finance/quote"
CHART_URL = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"
# Every event since listing in one small answer: monthly bars, all splits and dividends.
ACTIONS_PARAMS = {**ACTIONS_QUERY, "events": "div,splits"}  # metered as "actions"
QUOTE_BATCH = 250  # symbols per v7 quote request
PRIME_MIN_SYMBOLS = 2  # below this a quote request saves no timezone request
_INFO_FIELDS = (
    "longName",
    "shortName",
    "exchange",
    "currency",
    "sector",
    "industry",
    "quoteType",
    "exchangeTimezoneName",
)
QUOTE_COLUMNS = (
    "symbol",
    "price",
    "currency",
    "market_state",
    "market_time",
    "previous_close",
    "day_volume",
)


@dataclass(frozen=True)
class YahooSettings:
    base_url: str | None = None
    requests_per_second: float = 5.0  # the rate the process starts at
    max_requests_per_second: float = 10.0  # its ceiling; at or below the start: fixed
    max_retries: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    cache_dir: str | None = None


_SESSIONS: dict[str | None, YahooSession] = {}
_SESSIONS_LOCK = threading.Lock()


def _session_for(settings: YahooSettings) -> YahooSession:
    """One session per origin per process; yfinance keeps a single global one anyway."""
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(settings.base_url)
        if session is None:
            session = YahooSession(
                settings.base_url,
                settings.requests_per_second,
                settings.max_requests_per_second,
            )
            _SESSIONS[settings.base_url] = session
        else:
            session.set_rate(settings.requests_per_second, settings.max_requests_per_second)
        # The host's cool-down after a 429 follows the client's back-off settings.
        session.circuit.base_seconds = settings.backoff_seconds
        session.circuit.max_seconds = settings.max_backoff_seconds
        return session


def check_base_url(url: str | None) -> str | None:
    """The mirror URL if requests can go there, else a ``ConfigurationError`` saying why.

    curl answers an ``ftp://`` or scheme-less URL with a connection error that looks like
    an outage and would be retried for minutes; it is a setting to fix, so it fails now.
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"the Yahoo URL {url!r} (STOCK_PIPELINE_YAHOO_URL or the yahoo resource's "
            f"base_url) is not an http(s)://HOST[:PORT] URL; fix it, or unset it to use Yahoo"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigurationError(f"the Yahoo URL {url!r} has an invalid port") from None
    return url


def _valid_timezone(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class YahooClient:
    """Fetches bars, quotes and stock info; every failure is a typed, explained error."""

    def __init__(
        self, settings: YahooSettings, sleep: Callable[[float], None] = stopping.sleep
    ) -> None:
        check_base_url(settings.base_url)
        self.settings = settings
        self._sleep = sleep
        yf.config.debug.hide_exceptions = False
        yf.config.network.retries = 0
        if settings.cache_dir:
            Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(settings.cache_dir)
        self.session = _session_for(settings)
        self.price_hints: dict[str, int] = {}  # per symbol, from its latest chart answer

    @staticmethod
    def forget_answers() -> None:
        """Drop yfinance's process-wide cache of answers for past ranges. A batch that
        fetches a session again (a short one, a year's last close) must ask Yahoo: the
        cache would hand back the earlier answer, counted as a new one, in any process that
        runs more than one sync (the command line, the background queue)."""
        yfdata.YfData.cache_get.cache_clear()

    @contextmanager
    def meter(self) -> Iterator[RequestMeter]:
        """Count this thread's Yahoo requests inside the block."""
        with self.session.meter() as meter:
            yield meter

    @property
    def rate(self) -> float | None:
        """The requests per second the process paces Yahoo at now (None: no limit); it
        climbs while Yahoo answers and halves on a 429 (``yahoo.limiter``)."""
        return self.session.limiter.rate

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.max_backoff_seconds, self.settings.backoff_seconds * 2**attempt)
        return base * random.uniform(0.5, 1.5)

    def _call(self, symbol: str, fn: Callable[[], T]) -> T:
        """Run one yfinance call, retrying transient failures with backoff and jitter."""
        attempt = 0
        while True:
            with self.session.meter() as meter:
                try:
                    return fn()
                except Exception as exc:  # classified below, never swallowed
                    error = classify(symbol, exc, meter.statuses)
            if not error.transient or attempt >= self.settings.max_retries:
                raise error
            strikes = self.session.circuit.strikes
            if isinstance(error, RateLimitedError) and strikes > self.settings.max_retries:
                # Host-wide, not per call: the whole process backs off as one.
                raise RateLimitedError(
                    symbol,
                    f"Yahoo answered 429 to the last {strikes} requests of this process; "
                    f"giving up for now. Lower requests_per_second and "
                    f"max_requests_per_second (or pin a pace with --delay) or wait a few "
                    f"minutes",
                )
            delay = self._backoff(attempt)
            log.warning(
                "%s (attempt %d of %d); retrying in %.1fs",
                error,
                attempt + 1,
                self.settings.max_retries + 1,
                delay,
            )
            # yfinance caches answers for past ranges, failed ones included.
            yfdata.YfData.cache_get.cache_clear()
            self._sleep(delay)
            attempt += 1

    def _remember_price_hint(self, symbol: str, ticker: yf.Ticker) -> None:
        """Keep the answer's ``priceHint`` (decimals of its prices) for storing its bars."""
        hint = ticker.get_history_metadata().get("priceHint")
        if isinstance(hint, int | float):
            self.price_hints[symbol] = int(hint)

    def _ticker(self, symbol: str) -> yf.Ticker:
        return yf.Ticker(symbol, session=self.session)

    def intraday_window(
        self, window: FetchWindow, interval: str, now: datetime | None = None
    ) -> pd.DataFrame:
        """One chart request for a window of sessions; rows of those sessions only."""
        spec = intraday_spec(interval)
        check_lookback(window.first, spec.interval, now or settings.now())
        start, end = window_bounds(window.first, window.last)

        def fetch() -> pd.DataFrame:
            ticker = self._ticker(window.symbol)
            raw = ticker.history(
                start=start,
                end=end,
                interval=spec.interval,
                prepost=False,
                auto_adjust=False,
                actions=False,
                repair=False,
                keepna=False,
            )
            self._remember_price_hint(window.symbol, ticker)
            return normalize_intraday(raw, window.symbol, spec.interval, list(window.sessions))

        frame = self._call(window.symbol, fetch)
        return frame if not frame.empty else empty_intraday()

    def history(
        self,
        symbol: str,
        interval: str = "1d",
        period: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        """Daily or weekly bars for a period (1y 2y 5y max) or an inclusive date range."""
        interval = normalize_history_interval(interval)
        kwargs: dict[str, Any]
        if period is not None:
            kwargs = {"period": normalize_period(period)}
        elif start is not None and end is not None:
            if start > end:
                raise InvalidDateRangeError(f"start date {start} is after end date {end}")
            kwargs = {
                "start": start.isoformat(),
                "end": (end + timedelta(days=1)).isoformat(),
            }
        else:
            raise InvalidDateRangeError("give a period (1y, 2y, 5y, max) or both start and end")

        def fetch() -> pd.DataFrame:
            ticker = self._ticker(symbol)
            raw = ticker.history(
                interval=interval, auto_adjust=False, actions=True, repair=False, **kwargs
            )
            self._remember_price_hint(symbol, ticker)
            frame = normalize_daily(raw, symbol, interval)
            if frame.empty:
                raise NoDataError(symbol, f"Yahoo sent no {interval} bars for {kwargs}")
            return frame

        return self._call(symbol, fetch)

    def _quotes(self, batch: list[str]) -> list[dict[str, Any]]:
        """One v7 quote request for up to QUOTE_BATCH symbols (cookie and crumb by yfinance)."""
        data = yfdata.YfData(session=self.session).get_raw_json(
            QUOTE_URL, params={"symbols": ",".join(batch)}
        )
        result = data["quoteResponse"]["result"]
        if not isinstance(result, list):
            raise ValueError("quoteResponse.result is not a list")
        return result

    def prime_timezones(self, symbols: Sequence[str]) -> int:
        """Fill yfinance's timezone cache for many symbols with batched quote requests.

        Before a symbol's first price request yfinance asks Yahoo for its exchange timezone
        with a chart request of its own, then keeps the answer on disk. One v7 quote answers
        QUOTE_BATCH symbols with the same ``exchangeTimezoneName``, so a cold sync of 500
        symbols sends 2 requests instead of 500 (bench B2, B7). Best effort: a symbol this
        leaves out is looked up by yfinance as before. Returns how many were primed.
        """
        cache = yfcache.get_tz_cache()
        unknown = [s for s in dict.fromkeys(symbols) if cache.lookup(s) is None]
        if len(unknown) < PRIME_MIN_SYMBOLS or getattr(cache, "dummy", False):
            return 0
        primed = 0
        for i in range(0, len(unknown), QUOTE_BATCH):
            batch = unknown[i : i + QUOTE_BATCH]
            try:
                quotes = self._quotes(batch)
            except Exception as exc:  # the per-symbol look-ups still work
                log.warning(
                    "timezone look-up of %d symbol(s) by quote failed (%s); yfinance will "
                    "look each one up itself",
                    len(batch),
                    classify(",".join(batch[:3]), exc, []),
                )
                continue
            found = [
                (q.get("symbol"), q.get("exchangeTimezoneName"))
                for q in quotes
                if q.get("symbol") in batch and _valid_timezone(q.get("exchangeTimezoneName"))
            ]
            # One transaction, not a commit per symbol: 0.045 s instead of 0.17 s for 200.
            db = cache.get_db()
            with db.atomic() if db is not None else nullcontext():
                for symbol, tz in found:
                    cache.store(symbol, tz)
            primed += len(found)
        return primed

    def quotes(self, symbols: Sequence[str]) -> list[dict[str, Any]]:
        """Yahoo's v7 quotes of many symbols, QUOTE_BATCH per request; unknown ones absent."""
        found: list[dict[str, Any]] = []
        for i in range(0, len(symbols), QUOTE_BATCH):
            batch = list(symbols[i : i + QUOTE_BATCH])
            label = ",".join(batch[:3]) + ("…" if len(batch) > 3 else "")

            def fetch(batch: list[str] = batch) -> list[dict[str, Any]]:
                return self._quotes(batch)

            found += [q for q in self._call(label, fetch) if q.get("symbol") in batch]
        return found

    def instruments(self, symbols: Sequence[str]) -> dict[str, Instrument]:
        """What Yahoo reports about each symbol it knows (type, exchange, zone, currency)."""
        return {q["symbol"]: Instrument.from_quote(q) for q in self.quotes(symbols)}

    def current_prices(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Latest prices of many symbols, QUOTE_BATCH per request (Yahoo's v7 quote)."""
        rows = [row for q in self.quotes(symbols) if (row := quote_row(q)) is not None]
        return pd.DataFrame(rows, columns=list(QUOTE_COLUMNS))

    def corporate_actions(self, symbol: str) -> tuple[pd.DataFrame, datetime]:
        """Every split and dividend Yahoo lists for ``symbol`` (one chart request), as
        Yahoo states them, and when the answer arrived."""

        def fetch() -> tuple[pd.DataFrame, datetime]:
            data = yfdata.YfData(session=self.session).get_raw_json(
                CHART_URL.format(symbol=symbol), params=ACTIONS_PARAMS
            )
            arrived = settings.now()
            chart = data["chart"]
            if chart.get("error") or not chart.get("result"):
                raise NoDataError(symbol, f"Yahoo sent no chart: {chart.get('error')}")
            return chart_events(symbol, chart["result"][0]), arrived

        return self._call(symbol, fetch)

    def stock_info(self, symbol: str) -> dict[str, Any]:
        """Name, exchange, currency, sector, industry of one symbol (yfinance's ``.info``)."""

        def fetch() -> dict[str, Any]:
            info = self._ticker(symbol).info
            if not info or not (info.get("longName") or info.get("shortName")):
                raise NoDataError(symbol, "Yahoo has no profile for this symbol")
            return info

        info = self._call(symbol, fetch)
        return {"symbol": symbol, **{f: info.get(f) for f in _INFO_FIELDS}}


def quote_row(quote: dict[str, Any]) -> dict[str, Any] | None:
    """A ``current_prices`` row from one v7 quote (None without a price).

    Prices are rounded to Yahoo's ``priceHint`` decimals (its float32 values carry noise:
    225.89 arrives as 225.88999938964844); a quote without ``regularMarketTime`` has no
    known market time (NULL), not 1970-01-01.
    """
    price = quote.get("regularMarketPrice")
    if price is None:
        return None
    hint = Instrument.from_quote(quote).price_hint
    market_time = quote.get("regularMarketTime")
    previous = quote.get("regularMarketPreviousClose")
    return {
        "symbol": quote["symbol"],
        "price": round_price(float(price), hint),
        "currency": quote.get("currency"),
        "market_state": quote.get("marketState"),
        "market_time": (
            pd.Timestamp(int(market_time), unit="s", tz="UTC") if market_time else pd.NaT
        ),
        "previous_close": None if previous is None else round_price(float(previous), hint),
        "day_volume": quote.get("regularMarketVolume"),
    }
