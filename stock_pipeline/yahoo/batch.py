"""Fetching a batch of partitions: few requests, parallel symbols, per-partition outcomes.

One symbol's failure never loses the others: the result holds the bars of every partition
that succeeded and, for each one that failed, the reason. No Dagster here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from stock_pipeline import settings
from stock_pipeline.domain import stopping
from stock_pipeline.domain.adjustments import as_traded
from stock_pipeline.domain.bars import empty_daily, empty_intraday
from stock_pipeline.domain.errors import DataValidationError, NoDataError
from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.domain.intervals import normalize_history_interval, normalize_intraday_interval
from stock_pipeline.domain.partition_keys import SymbolDay, SymbolYear
from stock_pipeline.domain.planning import FetchWindow, plan_intraday_windows
from stock_pipeline.domain.progress import ProgressTracker
from stock_pipeline.domain.stopping import SyncStopped
from stock_pipeline.domain.trading_calendar import (
    expected_bar_count,
    session_is_final,
    year_final_after,
)
from stock_pipeline.domain.validation import ohlc_violations
from stock_pipeline.domain.weeks import WEEK_INTERVAL, history_span, partition_rows, weekly_bars
from stock_pipeline.settings import automation
from stock_pipeline.yahoo.client import YahooClient

log = logging.getLogger(__name__)


def _log_failure(exc: BaseException, message: str, *args: object) -> None:
    """Warn about a failed partition, unless a stop (Ctrl-C, SIGTERM) ended it: the CLI has
    said ``stopping:`` and reports the stop once; a warning per partition would only echo it."""
    if isinstance(exc, SyncStopped) or stopping.stop_requested():
        log.debug(message, *args)
    else:
        log.warning(message, *args)


Splits = Mapping[str, Sequence[tuple[date, float]]]  # per symbol: (ex_date, ratio)


@dataclass
class PartitionOutcome:
    key: str
    rows: int = 0
    expected: int | None = None
    requests: int = 0  # chart requests of the window that served this partition
    final: bool = True
    first_bar: str | None = None
    last_bar: str | None = None
    error: PartitionFailure | None = None


@dataclass
class BatchResult:
    """What a batch fetched: stored-ready rows and an outcome per partition."""

    frame: pd.DataFrame
    outcomes: dict[str, PartitionOutcome] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    # History: the daily rows the answers held, whose dividends and splits columns are
    # events on their own ex-dates (a weekly row's are its week's). None: ``frame``'s.
    events: pd.DataFrame | None = None
    # The requests per second the process paced Yahoo at when the fetch ended (it adapts).
    rate_reached: float | None = None

    @property
    def failures(self) -> dict[str, PartitionFailure]:
        return {k: o.error for k, o in self.outcomes.items() if o.error is not None}

    @property
    def failed(self) -> dict[str, str]:
        """Each failed partition's reason, as people read it."""
        return {k: f.text for k, f in self.failures.items()}

    @property
    def succeeded(self) -> list[str]:
        return [k for k, o in self.outcomes.items() if o.error is None]


def fetch_intraday(
    client: YahooClient,
    partitions: Sequence[SymbolDay],
    interval: str,
    max_workers: int = 4,
    now: datetime | None = None,
    splits: Splits | None = None,
    progress: ProgressTracker | None = None,
) -> BatchResult:
    """Bars for every (symbol, day), in as few chart requests as Yahoo allows.

    With ``splits`` (every split known when the answers arrive, per symbol) the bars are
    stored as traded (``domain.adjustments.as_traded``); without, as Yahoo sent them.
    ``progress`` hears of each window as it is judged (the run's live progress).
    """
    interval = normalize_intraday_interval(interval)
    now = now or settings.now()
    grace = automation.final_grace()
    client.forget_answers()  # every window is asked of Yahoo, not of yfinance's cache
    windows = plan_intraday_windows([(p.symbol, p.day) for p in partitions], interval)
    if progress is not None:
        progress.plan(len(windows))

    def run(
        window: FetchWindow,
    ) -> tuple[FetchWindow, pd.DataFrame | None, PartitionFailure | None, Counter[str]]:
        with client.meter() as meter:
            try:
                frame = client.intraday_window(window, interval, now=now)
                # fetched_at: when the answer arrived, not when the rows are written.
                frame = frame.assign(fetched_at=settings.now())
                if splits is not None:
                    hint = client.price_hints.get(window.symbol)
                    known = splits.get(window.symbol, ())
                    frame = as_traded(frame, "session_date", known, hint)
                return window, frame, None, meter.counts
            except Exception as exc:  # recorded per partition, never lost
                _log_failure(
                    exc, "%s %s..%s failed: %s", window.symbol, window.first, window.last, exc
                )
                return window, None, PartitionFailure.from_error(exc), meter.counts

    result = BatchResult(frame=empty_intraday())
    result.requests.update(_prime_timezones(client, [w.symbol for w in windows], progress))
    frames: list[pd.DataFrame] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for window, frame, error, counts in pool.map(run, windows):
            result.requests.update(counts)
            keys = []
            for day in window.sessions:
                key = SymbolDay(window.symbol, day).key
                outcome = PartitionOutcome(
                    key,
                    expected=expected_bar_count(day, interval),
                    requests=counts["chart"],
                    final=session_is_final(day, now, grace),
                    error=error,
                )
                result.outcomes[key] = outcome
                keys.append(key)
                if frame is None:
                    continue
                day_rows = frame[frame["session_date"] == day]
                _judge(outcome, day_rows, "ts", f"{window.symbol} {day}")
                if outcome.error is None:
                    frames.append(day_rows)
            _report(progress, [result.outcomes[k] for k in keys], counts)
    if frames:
        result.frame = pd.concat(frames, ignore_index=True)
    return result


def _prime_timezones(
    client: YahooClient, symbols: Sequence[str], progress: ProgressTracker | None
) -> Counter[str]:
    """Timezones of the batch's symbols in a few quote requests; the requests it made."""
    with client.meter() as meter:
        primed = client.prime_timezones(symbols)
    if primed:
        log.info("timezones of %d symbol(s) from %d quote request(s)", primed, meter.total)
    if progress is not None:
        progress.requests(sum(meter.counts.values()))
    return meter.counts


def _report(
    progress: ProgressTracker | None,
    outcomes: Sequence[PartitionOutcome],
    counts: Counter[str],
) -> None:
    """One window's partitions, judged, to the run's live progress."""
    if progress is None:
        return
    progress.window(
        rows={o.key: o.rows for o in outcomes if o.error is None},
        failures={o.key: o.error.text for o in outcomes if o.error is not None},
        requests=sum(counts.values()),
    )


def _judge(outcome: PartitionOutcome, rows: pd.DataFrame, key: str, label: str) -> None:
    """Fill an outcome from a partition's rows: empty or invalid rows make it fail."""
    if rows.empty:
        outcome.error = PartitionFailure.from_error(
            NoDataError(label, "Yahoo sent no bars for a trading day")
        )
        return
    violations = ohlc_violations(rows, key=key)
    if violations:
        outcome.error = PartitionFailure.from_error(
            DataValidationError("; ".join(str(v) for v in violations))
        )
        return
    outcome.rows = len(rows)
    outcome.first_bar = str(rows[key].min())
    outcome.last_bar = str(rows[key].max())


def fetch_history(
    client: YahooClient,
    partitions: Sequence[SymbolYear],
    interval: str,
    max_workers: int = 4,
    today: date | None = None,
    splits: Splits | None = None,
    progress: ProgressTracker | None = None,
) -> BatchResult:
    """Daily or weekly bars for (symbol, year) partitions: one request per symbol
    (``splits``: as in ``fetch_intraday``).

    Both ask Yahoo for daily bars: weekly bars are aggregated from them
    (``domain.weeks``), each week in the partition of its Monday's year, so a week across
    New Year loses no session. ``result.events`` keeps the daily rows, whose dividends and
    splits are on their own ex-dates.
    """
    interval = normalize_history_interval(interval)
    today = today or settings.now().date()
    grace = automation.final_grace()
    client.forget_answers()  # a year fetched again is asked of Yahoo (see fetch_intraday)
    by_symbol: dict[str, list[int]] = {}
    for p in partitions:
        by_symbol.setdefault(p.symbol, []).append(p.year)
    if progress is not None:
        progress.plan(len(by_symbol))

    def run(
        item: tuple[str, list[int]],
    ) -> tuple[
        str,
        list[int],
        pd.DataFrame | None,
        pd.DataFrame | None,
        PartitionFailure | None,
        Counter[str],
    ]:
        symbol, years = item
        spans = [history_span(year, interval) for year in years]
        start = min(first for first, _ in spans)
        end = min(max(last for _, last in spans), today)
        with client.meter() as meter:
            try:
                if start > end:
                    raise NoDataError(symbol, f"no {interval} bar of {years} has begun by {today}")
                daily = client.history(symbol, interval="1d", start=start, end=end)
                daily = daily.assign(fetched_at=settings.now())  # when the answer arrived
                known = list(splits.get(symbol, ())) if splits is not None else []
                hint = client.price_hints.get(symbol)
                if splits is not None:  # as traded (rounded by as_traded), else as sent
                    daily = as_traded(daily, "date", known, hint)
                frame = daily
                if interval == WEEK_INTERVAL:
                    frame = weekly_bars(daily, known, as_traded=splits is not None)
                return symbol, years, frame, daily, None, meter.counts
            except Exception as exc:  # recorded per partition, never lost
                _log_failure(exc, "%s history %s..%s failed: %s", symbol, start, end, exc)
                return symbol, years, None, None, PartitionFailure.from_error(exc), meter.counts

    result = BatchResult(frame=empty_daily())
    result.requests.update(_prime_timezones(client, list(by_symbol), progress))
    frames: list[pd.DataFrame] = []
    answers: list[pd.DataFrame] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for symbol, years, frame, daily, error, counts in pool.map(run, sorted(by_symbol.items())):
            result.requests.update(counts)
            if daily is not None:
                answers.append(daily)
            keys = []
            for year in years:
                key = SymbolYear(symbol, year).key
                keys.append(key)
                # Final once the answer arrived after the span's last close plus grace (a
                # weekly year's span ends on the Sunday after its last Monday).
                arrived = frame["fetched_at"].iloc[0] if frame is not None and len(frame) else None
                through = history_span(year, interval)[1]
                final = arrived is not None and arrived >= year_final_after(year, grace, through)
                outcome = PartitionOutcome(key, requests=counts["chart"], error=error, final=final)
                result.outcomes[key] = outcome
                if frame is None:
                    continue
                rows = partition_rows(frame, year)
                _judge(outcome, rows, "date", f"{symbol} {year}")
                if outcome.error is None:
                    frames.append(rows)
            _report(progress, [result.outcomes[k] for k in keys], counts)
    if frames:
        result.frame = pd.concat(frames, ignore_index=True)
    if answers:
        result.events = pd.concat(answers, ignore_index=True)
    return result
