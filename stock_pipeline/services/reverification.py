"""Re-verifying stored daily history against Yahoo today, and repairing what differs.

Per symbol: ONE chart request covering every year it has daily bars stored
(``yahoo.batch.fetch_history``, as the ``daily_prices`` asset asks), compared on the same
dates with the ``daily_prices_adjusted`` view (``domain.reverification``). Where a price
or the volume differs beyond tolerance, those years are stored again from that same
answer, through the asset's raw write path: Yahoo's split adjustment undone with the
splits it applied (those the answer lists, and stored ones after its last date), prices at
the ``priceHint``, the answer's corporate actions recorded as every daily answer's are. A
Yahoo-side correction and a missed split or dividend both surface here. The weekly (1wk)
years built from the daily values stored again are rebuilt from the same answer, as a 1wk
sync builds them, where it covers their weeks (no request of their own); the others are
named for a sync. No Dagster here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from stock_pipeline import settings
from stock_pipeline.domain.adjustments import as_traded
from stock_pipeline.domain.partition_keys import SymbolYear, history_key
from stock_pipeline.domain.reverification import (
    COMPARED_COLUMNS,
    Comparison,
    compare_daily,
    weekly_span_gap,
)
from stock_pipeline.domain.trading_calendar import latest_final_session, session_is_final
from stock_pipeline.domain.weeks import (
    WEEK_INTERVAL,
    history_span,
    partition_rows,
    week_of,
    weekly_bars,
)
from stock_pipeline.services.corporate_actions import known_splits, store_answer_events
from stock_pipeline.settings import automation
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import DAILY_PRICES, connect, replace_slices
from stock_pipeline.yahoo.batch import fetch_history
from stock_pipeline.yahoo.client import YahooClient

log = logging.getLogger(__name__)
INTERVAL = "1d"  # weekly (1wk) rows are not compared; stale ones are rebuilt from the answer
BATCH_SYMBOLS = 100  # answers held in memory at once (25 years of one symbol: ~6,300 rows)
Warn = Callable[[str], object]
Split = tuple[date, float]  # (ex_date, new shares per old share)

WEEKLY_YEARS_SQL = """
    SELECT DISTINCT year FROM daily_prices WHERE interval = '1wk' AND symbol = ?
"""
STORED_YEARS_SQL = """
    SELECT symbol, list(DISTINCT year ORDER BY year) AS years FROM daily_prices
    WHERE interval = '1d' AND symbol IN (SELECT unnest(?)) GROUP BY symbol
"""
VIEW_SQL = f"""
    SELECT symbol, date, {", ".join(COMPARED_COLUMNS)} FROM daily_prices_adjusted
    WHERE interval = '1d' AND symbol IN (SELECT unnest(?)) ORDER BY symbol, date
"""


@dataclass
class SymbolCheck:
    """What re-verification found for one symbol."""

    symbol: str
    years: list[int]  # years with daily bars stored
    comparison: Comparison = field(default_factory=Comparison)
    repaired: list[int] = field(default_factory=list)  # years stored again
    rows_written_by_year: dict[int, int] = field(default_factory=dict)
    written: pd.DataFrame | None = None  # the rows stored again (the repaired years)
    weekly_rebuilt: list[int] = field(default_factory=list)  # 1wk years rebuilt from the answer
    weekly_written: pd.DataFrame | None = None  # their rows
    # 1wk years built from the old values that the answer could not rebuild, and why
    weekly_stale: list[int] = field(default_factory=list)
    weekly_why: dict[int, str] = field(default_factory=dict)
    remaining: int = 0  # differences left after the repair (compared again, no request)
    # or, in a dry run, every difference found
    error: str | None = None  # why it could not be verified

    @property
    def differs(self) -> bool:
        return bool(self.comparison.differences)

    @property
    def changed_days(self) -> list[date]:
        """Differing days where a stored bar itself differs (a price or the volume)."""
        return sorted({d.day for d in self.comparison.differences if d.column != "adj_close"})

    @property
    def repaired_keys(self) -> list[str]:
        return [history_key(self.symbol, y) for y in self.repaired]

    @property
    def weekly_rebuilt_keys(self) -> list[str]:
        return [history_key(self.symbol, y) for y in self.weekly_rebuilt]

    def summary(self) -> dict[str, object]:
        """Per-symbol metadata: counts and the first differing dates."""
        found = self.comparison
        out: dict[str, object] = {"dates_compared": found.compared}
        if self.error:
            out["error"] = self.error
        if self.differs:
            out.update(
                differing_dates=len(found.dates),
                first_dates=[str(d) for d in found.dates[:5]],
                by_column=found.by_column(),
                years_repaired=self.repaired,
                remaining_after_repair=self.remaining,
                weekly_years_rebuilt=self.weekly_rebuilt,
                weekly_years_to_resync=self.weekly_stale,
            )
            if self.weekly_why:
                out["weekly_resync_why"] = {str(y): w for y, w in self.weekly_why.items()}
        return out


@dataclass
class Reverification:
    """A re-verification run: each symbol's result and the Yahoo requests it made."""

    symbols: dict[str, SymbolCheck] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # no daily bars stored: nothing to check
    requests: Counter[str] = field(default_factory=Counter)
    new_events: int = 0
    dry_run: bool = False

    @property
    def differing(self) -> list[SymbolCheck]:
        return [c for c in self.symbols.values() if c.differs]

    @property
    def failed(self) -> dict[str, str]:
        return {s: c.error for s, c in self.symbols.items() if c.error}

    @property
    def repaired_keys(self) -> list[str]:
        return [k for c in self.symbols.values() for k in c.repaired_keys]

    @property
    def weekly_rebuilt_keys(self) -> list[str]:
        return [k for c in self.symbols.values() for k in c.weekly_rebuilt_keys]

    @property
    def weekly_to_resync_keys(self) -> list[str]:
        return [history_key(c.symbol, y) for c in self.symbols.values() for y in c.weekly_stale]


def stored_years(database: Lake, symbols: Sequence[str]) -> dict[str, list[int]]:
    """The years each symbol has daily bars stored."""
    with connect(database, read_only=True) as con:
        rows = con.execute(STORED_YEARS_SQL, [list(symbols)]).fetchall()
    return {str(symbol): [int(y) for y in years] for symbol, years in rows}


def _view(database: Lake, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
    with connect(database, read_only=True) as con:
        frame = con.execute(VIEW_SQL, [list(symbols)]).df()
    return {str(s): rows for s, rows in frame.groupby("symbol", sort=False)}


def _final_only(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Bars of sessions that had closed when the answer arrived (a session still trading
    changes by the minute: it is no correction)."""
    if frame.empty:
        return frame
    days = pd.to_datetime(frame["date"]).dt.date.tolist()
    since = (now - timedelta(days=2)).date()  # sessions before then closed long ago
    return frame[[d < since or session_is_final(d, now) for d in days]]


def reverify(
    client: YahooClient,
    database: Lake,
    symbols: Sequence[str],
    *,
    repair: bool = True,
    max_workers: int = 4,
    now: datetime | None = None,
    warn: Warn | None = None,
    batch_size: int = BATCH_SYMBOLS,
) -> Reverification:
    """Compare every stored daily bar of ``symbols`` with Yahoo today; store again the years
    that differ (unless ``repair`` is False). One chart request per symbol with bars stored,
    ``batch_size`` symbols' answers in memory at a time. ``warn`` hears each difference
    with its dates and values, each repair and what remains (default: this module's log)."""
    result = Reverification(dry_run=not repair)
    years = stored_years(database, symbols)
    result.skipped = [s for s in dict.fromkeys(symbols) if s not in years]
    checked = [s for s in dict.fromkeys(symbols) if s in years]
    for first in range(0, len(checked), max(1, batch_size)):
        batch = checked[first : first + max(1, batch_size)]
        _reverify_batch(
            client,
            database,
            {s: years[s] for s in batch},
            result,
            max_workers,
            now or settings.now(),
            warn or log.warning,
        )
    return result


def _reverify_batch(
    client: YahooClient,
    database: Lake,
    years: dict[str, list[int]],
    result: Reverification,
    max_workers: int,
    now: datetime,
    warn: Warn,
) -> None:
    repair = not result.dry_run
    checked = list(years)
    partitions = [SymbolYear(s, y) for s in checked for y in years[s]]
    # fetch_history asks Yahoo itself, not yfinance's cache of past ranges: Yahoo today.
    fetched = fetch_history(client, partitions, INTERVAL, max_workers, today=now.date())
    result.requests.update(fetched.requests)
    answers = {str(s): rows for s, rows in fetched.frame.groupby("symbol", sort=False)}
    views = _view(database, checked)
    for symbol in checked:
        check = SymbolCheck(symbol, years[symbol])
        result.symbols[symbol] = check
        failures = [
            f"{y}: {fetched.failed[k]}"
            for y in years[symbol]
            if (k := history_key(symbol, y)) in fetched.failed
        ]
        if failures:
            check.error = "; ".join(failures)
            warn(f"{symbol} could not be re-verified: {check.error}")
        answer = answers.get(symbol)
        if answer is None:
            continue
        check.comparison = compare_daily(
            views.get(symbol, answer.iloc[0:0]), _final_only(answer, now)
        )
        if check.differs:
            found = check.comparison
            warn(
                f"{symbol} differs from Yahoo on {len(found.dates)} of {found.compared} "
                f"date(s) (years {', '.join(map(str, found.years))}):\n  "
                + "\n  ".join(found.lines())
            )
    differing = [result.symbols[s] for s in checked if result.symbols[s].differs]
    if repair:
        _repair(client, database, result, differing, answers, now, warn)
    else:
        for check in differing:
            check.remaining = len(check.comparison.differences)


def answer_splits(answer: pd.DataFrame, stored: Sequence[Split]) -> list[Split]:
    """The splits Yahoo divided ``answer`` by: those it lists (within its dates, Yahoo's
    word today wins over a stored ratio, and a stored split it does not list is not
    applied) and the stored ones after its last date (it does not list them)."""
    days = pd.to_datetime(answer["date"]).dt.date
    listed = answer["stock_splits"].fillna(0) > 0
    found = {
        d: float(r) for d, r in zip(days[listed], answer.loc[listed, "stock_splits"], strict=True)
    }
    last = max(days) if len(days) else None
    later = {d: r for d, r in stored if last is None or d > last}
    return sorted({**later, **found}.items())


def _weekly_rebuilds(
    database: Lake,
    checks: Sequence[SymbolCheck],
    traded: dict[str, pd.DataFrame],
    splits: dict[str, list[Split]],
) -> list[pd.DataFrame]:
    """The weekly (1wk) years whose bars were aggregated from daily values about to be
    stored again, rebuilt from the same answer where it covers the year's weeks.

    A stale year is one with weekly rows stored that holds a day whose price or volume
    differs. It is rebuilt as a 1wk sync builds it (``domain.weeks.weekly_bars``: as
    traded, splits inside a week, the same decimals) from the answer's rows of its span,
    with no request of its own, when the answer covers that span up to the latest session
    final at its arrival (``domain.reverification.weekly_span_gap``); otherwise it stays
    named in ``weekly_stale`` with the reason in ``weekly_why``. Returns the rows to write.
    """
    grace = automation.final_grace()
    frames: list[pd.DataFrame] = []
    with connect(database, read_only=True) as con:
        for check in checks:
            changed = check.changed_days
            if check.written is None or check.written.empty or not changed:
                continue
            stored = {int(y) for (y,) in con.execute(WEEKLY_YEARS_SQL, [check.symbol]).fetchall()}
            stale = sorted(stored & {week_of(d).year for d in changed})
            if not stale:
                continue
            answer = traded[check.symbol]
            arrived = pd.Timestamp(answer["fetched_at"].max()).to_pydatetime()
            last_final = latest_final_session(arrived, grace)
            answer_years = {int(y) for y in answer["year"].unique()}
            days = pd.to_datetime(answer["date"]).dt.date
            rebuilt: list[pd.DataFrame] = []
            for year in stale:
                first, last = history_span(year, WEEK_INTERVAL)
                span = answer[(days >= first) & (days <= last)]
                why = weekly_span_gap(year, answer_years, last_final)
                if why is None and span.empty:
                    why = f"the answer holds no daily bar of its weeks ({first} to {last})"
                if why is not None:
                    check.weekly_stale.append(year)
                    check.weekly_why[year] = why
                    continue
                weeks = weekly_bars(span, splits[check.symbol], as_traded=True)
                check.weekly_rebuilt.append(year)
                rebuilt.append(partition_rows(weeks, year))
            if rebuilt:
                check.weekly_written = pd.concat(rebuilt, ignore_index=True)
                frames.append(check.weekly_written)
    return frames


def _tell_weekly(check: SymbolCheck, warn: Warn) -> None:
    """Log the weekly years rebuilt and those left to a sync, saying why."""
    if check.weekly_rebuilt and check.weekly_written is not None:
        warn(
            f"{check.symbol}: weekly bars rebuilt from the same answer: year(s) "
            f"{', '.join(map(str, check.weekly_rebuilt))}, {len(check.weekly_written)} row(s)"
        )
    if check.weekly_stale:
        years = ", ".join(map(str, check.weekly_stale))
        why = "; ".join(f"{y}: {check.weekly_why[y]}" for y in check.weekly_stale)
        warn(
            f"{check.symbol}: its weekly bars of {years} were built from the daily values "
            f"just corrected and the answer does not cover their weeks ({why}); sync them "
            f"again: stock-pipeline sync-historical --interval 1wk --symbols {check.symbol} "
            f"--start-date {check.weekly_stale[0]}-01-01 --end-date "
            f"{check.weekly_stale[-1]}-12-31 --force"
        )


def _repair(
    client: YahooClient,
    database: Lake,
    result: Reverification,
    differing: list[SymbolCheck],
    answers: dict[str, pd.DataFrame],
    now: datetime,
    warn: Warn,
) -> None:
    """Store again each differing symbol's affected years from the answer just compared,
    as the ``daily_prices`` asset stores an answer, with the weekly years built from them
    that the answer covers; record every answer's events."""
    if not answers:
        return
    symbols = list(answers)
    stored = known_splits(database, symbols)
    traded: dict[str, pd.DataFrame] = {}
    splits: dict[str, list[Split]] = {}  # the splits each answer is put back to as traded with
    for symbol, answer in answers.items():
        splits[symbol] = answer_splits(answer, stored.get(symbol, []))
        traded[symbol] = as_traded(answer, "date", splits[symbol], client.price_hints.get(symbol))
    arrived = max(
        (pd.Timestamp(f["fetched_at"].max()).to_pydatetime() for f in answers.values()),
        default=now,
    )
    result.new_events += store_answer_events(
        database, pd.concat(traded.values(), ignore_index=True), arrived
    )
    for check in differing:
        rows = traded[check.symbol]
        if (years := check.comparison.stored_bar_years) and not rows.empty:
            check.written = rows[rows["year"].isin(years)]
    repairs = [c.written for c in differing if c.written is not None and not c.written.empty]
    weekly = _weekly_rebuilds(database, differing, traded, splits)
    if repairs or weekly:  # daily years and the weekly years built from them: one transaction
        with connect(database) as con:
            replace_slices(con, DAILY_PRICES, pd.concat([*repairs, *weekly], ignore_index=True))
    for check in differing:
        written = check.written
        if written is None or written.empty:
            check.written = None
            continue
        years = written["year"].astype("int64").tolist()
        check.rows_written_by_year = {y: years.count(y) for y in sorted(set(years))}
        check.repaired = sorted(check.rows_written_by_year)
        warn(
            f"{check.symbol}: stored again from Yahoo's answer: year(s) "
            f"{', '.join(map(str, check.repaired))}, {len(written)} row(s)"
        )
        _tell_weekly(check, warn)
    views = _view(database, [c.symbol for c in differing])
    for check in differing:
        answer = _final_only(answers[check.symbol], now)
        again = compare_daily(views.get(check.symbol, answer.iloc[0:0]), answer)
        check.remaining = len(again.differences)
        if check.remaining:
            warn(
                f"{check.symbol} still differs after the repair on {len(again.dates)} "
                "date(s): the adjustment, not the stored bars (a dividend whose previous "
                "close is not stored, or one Yahoo states differently):\n  "
                + "\n  ".join(again.lines(5))
            )
