"""Re-verifying stored daily history against Yahoo today, and repairing what differs.

Per symbol: ONE chart request covering every year it has daily bars stored
(``yahoo.batch.fetch_history``, as the ``daily_prices`` asset asks), compared on the same
dates with the ``daily_prices_adjusted`` view (``domain.reverification``). Where a price
or the volume differs beyond tolerance, those years are stored again from that same
answer, through the asset's raw write path: Yahoo's split adjustment undone with the
splits it applied (those the answer lists, and stored ones after its last date), prices at
the ``priceHint``, the answer's corporate actions recorded as every daily answer's are. A
Yahoo-side correction and a missed split or dividend both surface here. No Dagster here.
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
from stock_pipeline.domain.reverification import COMPARED_COLUMNS, Comparison, compare_daily
from stock_pipeline.domain.trading_calendar import session_is_final
from stock_pipeline.domain.weeks import week_of
from stock_pipeline.services.corporate_actions import known_splits, store_answer_events
from stock_pipeline.warehouse.tables import DAILY_PRICES, connect, replace_slices
from stock_pipeline.yahoo.batch import fetch_history
from stock_pipeline.yahoo.client import YahooClient

log = logging.getLogger(__name__)
INTERVAL = "1d"  # weekly (1wk) rows are not re-verified
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
    weekly_stale: list[int] = field(default_factory=list)  # 1wk years built from old values
    remaining: int = 0  # differences left after the repair (compared again, no request)
    # or, in a dry run, every difference found
    error: str | None = None  # why it could not be verified

    @property
    def differs(self) -> bool:
        return bool(self.comparison.differences)

    @property
    def repaired_keys(self) -> list[str]:
        return [history_key(self.symbol, y) for y in self.repaired]

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
                weekly_years_to_resync=self.weekly_stale,
            )
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


def stored_years(database: str, symbols: Sequence[str]) -> dict[str, list[int]]:
    """The years each symbol has daily bars stored."""
    with connect(database, read_only=True) as con:
        rows = con.execute(STORED_YEARS_SQL, [list(symbols)]).fetchall()
    return {str(symbol): [int(y) for y in years] for symbol, years in rows}


def _view(database: str, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
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
    database: str,
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
    database: str,
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


def _weekly_stale(database: str, checks: Sequence[SymbolCheck], warn: Warn) -> None:
    """Name the weekly (1wk) years whose bars were aggregated from daily values that have
    just been stored again: they are not rebuilt here (a week's span may need days this
    answer does not cover), so they must be synced again."""
    with connect(database, read_only=True) as con:
        for check in checks:
            changed = {d.day for d in check.comparison.differences if d.column != "adj_close"}
            if not check.repaired or not changed:
                continue
            stored = {int(y) for (y,) in con.execute(WEEKLY_YEARS_SQL, [check.symbol]).fetchall()}
            check.weekly_stale = sorted(stored & {week_of(d).year for d in changed})
            if check.weekly_stale:
                years = ", ".join(map(str, check.weekly_stale))
                warn(
                    f"{check.symbol}: its weekly bars of {years} were built from the daily "
                    f"values just corrected; sync them again: stock-pipeline sync-historical "
                    f"--interval 1wk --symbols {check.symbol} --start-date "
                    f"{check.weekly_stale[0]}-01-01 --end-date {check.weekly_stale[-1]}-12-31 "
                    "--force"
                )


def _repair(
    client: YahooClient,
    database: str,
    result: Reverification,
    differing: list[SymbolCheck],
    answers: dict[str, pd.DataFrame],
    now: datetime,
    warn: Warn,
) -> None:
    """Store again each differing symbol's affected years from the answer just compared,
    as the ``daily_prices`` asset stores an answer; record every answer's events."""
    if not answers:
        return
    symbols = list(answers)
    stored = known_splits(database, symbols)
    traded: dict[str, pd.DataFrame] = {}
    for symbol, answer in answers.items():
        known = answer_splits(answer, stored.get(symbol, []))
        traded[symbol] = as_traded(answer, "date", known, client.price_hints.get(symbol))
    arrived = max(
        (pd.Timestamp(f["fetched_at"].max()).to_pydatetime() for f in answers.values()),
        default=now,
    )
    result.new_events += store_answer_events(
        database, pd.concat(traded.values(), ignore_index=True), arrived
    )
    repairs = [
        rows[rows["year"].isin(years)]
        for check in differing
        if (years := check.comparison.stored_bar_years) and not (rows := traded[check.symbol]).empty
    ]
    frame = pd.concat(repairs, ignore_index=True) if repairs else None
    if frame is not None:
        with connect(database) as con:
            replace_slices(con, DAILY_PRICES, frame)
    for check in differing:
        if frame is None or not check.comparison.stored_bar_years:
            continue
        written = frame[frame["symbol"] == check.symbol]
        check.written = written
        years = written["year"].astype("int64").tolist()
        check.rows_written_by_year = {y: years.count(y) for y in sorted(set(years))}
        check.repaired = sorted(check.rows_written_by_year)
        warn(
            f"{check.symbol}: stored again from Yahoo's answer: year(s) "
            f"{', '.join(map(str, check.repaired))}, {len(written)} row(s)"
        )
    _weekly_stale(database, differing, warn)
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
