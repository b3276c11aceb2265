"""B9, B10: reading prices through the adjusted view; refreshing corporate actions.

B9 — reading every 5m bar of 500 symbols × 60 sessions (~2.3 M rows, the B3/B4 warehouse)
through ``intraday_prices_adjusted`` (splits applied when read, one symbol in ten with a
split inside the window, a ``stocks`` row per symbol as a synced warehouse has) against a
plain scan of ``intraday_prices``: rows/s of a full fetch of the view's price columns
versus the table's, median of ``repeats``.

B9-daily — the same for ``daily_prices_adjusted``: 500 symbols × 20 years of daily bars
(~2.6 M rows), a dividend every quarter (its ratio needs the close before its ex-date) and
two splits in one symbol in ten; a plain scan of ``daily_prices`` is the baseline.

B10 — Yahoo requests of one ``corporate_actions_job`` run for 500 registered symbols
against the fake Yahoo (every request counts: cookie and crumb included); the target is
at most one per symbol.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from bench import NOW
from bench.b4_completeness import Params as B4Params
from bench.b4_completeness import populate
from bench.dagster_runs import scratch_instance
from bench.fake import fake_yahoo, request_counts, total
from bench.harness import Result, clear_yfinance_cache, main_for, ratio, stopwatch, symbols, workdir
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.warehouse.tables import connect

COLUMNS = "symbol, interval, session_date, ts, open, high, low, close, volume"
DAILY_COLUMNS = "symbol, interval, date, year, open, high, low, close, adj_close, volume"


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    days: int = 60
    repeats: int = 3
    split_every: int = 10  # one symbol in N has a split inside the window
    action_symbols: int = 500
    daily_symbols: int = 500
    daily_years: int = 20  # of weekday bars, a dividend every quarter


FULL = Params()
SMOKE = Params(
    symbols=5, days=3, repeats=2, split_every=2, action_symbols=5, daily_symbols=5, daily_years=2
)


def add_splits(database: Path, syms: list[str], days: list[date], every: int) -> int:
    split_day = days[len(days) // 2]
    rows = pd.DataFrame(
        {
            "symbol": syms[::every],
            "ex_date": split_day,
            "kind": "split",
            "value": 4.0,
            "first_seen": pd.Timestamp(NOW),
        }
    )
    with connect(database) as con:
        con.register("new_splits", rows)
        con.execute("INSERT INTO corporate_actions SELECT * FROM new_splits")
    return len(rows)


def read_rate(database: Path, source: str, columns: str = COLUMNS) -> tuple[float, int]:
    with connect(database, read_only=True) as con, stopwatch() as elapsed:
        got = con.execute(f"SELECT {columns} FROM {source}").fetchnumpy()
    rows = len(got["symbol"])
    return rows / elapsed[0], rows


def _interleaved(
    database: Path, table: str, repeats: int, columns: str = COLUMNS
) -> tuple[list[float], list[float], int, int]:
    """``table`` and its ``_adjusted`` view read in turn ``repeats`` times (so load drifts
    hit both alike): the table's rates, the view's, and the rows each returned."""
    plain, view = [], []
    rows = table_rows = 0
    for _ in range(repeats):
        rate, table_rows = read_rate(database, table, columns)
        plain.append(rate)
        rate, rows = read_rate(database, f"{table}_adjusted", columns)
        view.append(rate)
    return plain, view, table_rows, rows


def add_stocks(database: Path, syms: list[str]) -> None:
    """A ``stocks`` row per symbol, as a synced warehouse has: the views join it for currency."""
    rows = pd.DataFrame(
        {
            "symbol": syms,
            "exchange": "NMS",
            "currency": "USD",
            "quote_type": "EQUITY",
            "timezone": "America/New_York",
            "fetched_at": pd.Timestamp(NOW),
        }
    )
    with connect(database) as con:
        con.register("new_stocks", rows)
        con.execute("INSERT INTO stocks BY NAME SELECT * FROM new_stocks")


def count(database: Path, query: str) -> int:
    """One figure from the warehouse (not timed): what the views really changed."""
    with connect(database, read_only=True) as con:
        (value,) = con.execute(query).fetchone() or (0,)
    return int(value)


def view_read(params: Params) -> Result:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    with workdir("b8") as root:
        database = root / "data" / "warehouse.duckdb"
        populate(database, syms, days, B4Params(missing_every=10**9, provisional_every=10**9))
        splits = add_splits(database, syms, days, params.split_every)
        add_stocks(database, syms)
        read_rate(database, "intraday_prices_adjusted")  # warm: file cache
        plain, view, table_rows, rows = _interleaved(database, "intraday_prices", params.repeats)
        split_rows = count(
            database, "SELECT count(*) FROM intraday_prices_adjusted WHERE close <> 100.5"
        )
    value, base = statistics.median(view), statistics.median(plain)
    share = ratio(value, base)
    return Result(
        id="B9",
        title=f"read {rows:,} 5m bars through intraday_prices_adjusted ({splits} symbols split)",
        value=value,
        unit="rows/s",
        target="≥ 0.5× plain scan rows/s",
        met=share is not None and share >= 0.5,
        baseline=base,
        baseline_label="plain scan of intraday_prices",
        ratio=share,
        detail={
            "rows": rows,
            "table_rows": table_rows,
            "split_adjusted_rows": split_rows,
            "view_rows_per_s": view,
            "plain_rows_per_s": plain,
        },
        notes=[f"median of {params.repeats}: view {value:,.0f} rows/s, table {base:,.0f} rows/s"],
    )


def populate_daily(database: Path, syms: list[str], years: int, split_every: int) -> int:
    """Weekday daily bars of ``years`` years to NOW, quarterly dividends, some splits."""
    last = NOW.date()
    first = last.replace(year=last.year - years)
    names = pd.DataFrame({"symbol": syms, "no": range(len(syms))})
    with connect(database) as con:
        con.register("names", names)
        con.execute(
            """
            INSERT INTO daily_prices BY NAME
            SELECT n.symbol, '1d' AS interval, d::DATE AS date, year(d) AS year,
                   100.0 AS open, 101.0 AS high, 99.0 AS low, 100.5 AS close,
                   100.5 AS adj_close, 1000 AS volume, 0.0 AS dividends,
                   0.0 AS stock_splits, ?::TIMESTAMPTZ AS fetched_at
            FROM names n, range(?::DATE, ?::DATE, INTERVAL 1 DAY) r(d)
            WHERE dayofweek(d) BETWEEN 1 AND 5
            """,
            [NOW, first, last],
        )
        con.execute(
            """
            INSERT INTO corporate_actions BY NAME
            SELECT n.symbol, (?::DATE + to_days(CAST(q * 91 + 17 AS INTEGER)))::DATE AS ex_date,
                   'dividend' AS kind, 0.25 AS value, ?::TIMESTAMPTZ AS first_seen
            FROM names n, range(?) r(q)
            UNION ALL
            SELECT n.symbol, ?::DATE + to_days(CAST(k * ? AS INTEGER)), 'split', 2.0, ?
            FROM names n, range(1, 3) r(k) WHERE n.no % ? = 0
            """,
            [first, NOW, years * 4, first, years * 365 // 3, NOW, split_every],
        )
        (events,) = con.execute("SELECT count(*) FROM corporate_actions").fetchone() or (0,)
    return int(events)


def daily_view_read(params: Params) -> Result:
    syms = symbols(params.daily_symbols)
    with workdir("b9d") as root:
        database = root / "data" / "warehouse.duckdb"
        events = populate_daily(database, syms, params.daily_years, params.split_every)
        add_stocks(database, syms)
        read_rate(database, "daily_prices_adjusted", DAILY_COLUMNS)  # warm: file cache
        plain, view, table_rows, rows = _interleaved(
            database, "daily_prices", params.repeats, DAILY_COLUMNS
        )
        split_rows = count(
            database, "SELECT count(*) FROM daily_prices_adjusted WHERE close <> 100.5"
        )
        dividend_rows = count(
            database, "SELECT count(*) FROM daily_prices_adjusted WHERE adj_close < close"
        )
    value, base = statistics.median(view), statistics.median(plain)
    share = ratio(value, base)
    return Result(
        id="B9-daily",
        title=f"read {rows:,} daily bars through daily_prices_adjusted ({events:,} events)",
        value=value,
        unit="rows/s",
        target="≥ 0.5× plain scan rows/s",
        met=share is not None and share >= 0.5,
        baseline=base,
        baseline_label="plain scan of daily_prices",
        ratio=share,
        detail={
            "rows": rows,
            "table_rows": table_rows,
            "split_adjusted_rows": split_rows,
            "dividend_adjusted_rows": dividend_rows,
            "events": events,
            "view_rows_per_s": view,
            "plain_rows_per_s": plain,
        },
        notes=[f"median of {params.repeats}: view {value:,.0f} rows/s, table {base:,.0f} rows/s"],
    )


def actions_refresh(params: Params) -> Result:
    from stock_pipeline.definitions import defs

    syms = symbols(params.action_symbols)
    with workdir("b9") as root, scratch_instance(root / "home") as instance, fake_yahoo() as fake:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        job = defs.resolve_job_def("corporate_actions_job")
        with stopwatch() as seconds:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        if not result.success:
            raise RuntimeError("corporate_actions_job failed")
        counts = request_counts(fake)
    requests = total(counts)
    return Result(
        id="B10",
        title=f"requests to refresh corporate actions of {params.action_symbols} symbols",
        value=requests,
        unit="req",
        target=f"≤ {params.action_symbols} actions requests (1 per symbol; + cookie, crumb)",
        met=counts["actions"] <= params.action_symbols and requests <= params.action_symbols + 2,
        seconds=seconds[0],
        detail={"requests_by_kind": dict(counts), "seconds": round(seconds[0], 2)},
        notes=[f"{dict(counts)} in {seconds[0]:.1f} s (cookie and crumb once per process)"],
    )


def run(params: Params) -> list[Result]:
    return [view_read(params), daily_view_read(params), actions_refresh(params)]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
