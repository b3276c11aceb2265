"""Which (symbol, day) partitions hold final bars, and which are missing or provisional.

A partition is complete once its bars were fetched after the session closed; a fetch
during the session stores provisional bars (the last one still forming). Counts are
compared with the calendar's expected bars to report gaps. DuckDB and the calendar only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from stock_pipeline.domain.trading_calendar import expected_bar_count, session_close


@dataclass(frozen=True)
class SliceState:
    symbol: str
    day: date
    rows: int
    expected: int
    final: bool  # fetched after the close

    @property
    def complete(self) -> bool:
        return self.rows > 0 and self.final

    @property
    def status(self) -> str:
        if self.rows == 0:
            return "missing"
        return "complete" if self.final else "provisional"


def stored_slices(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str], days: Sequence[date], interval: str
) -> pd.DataFrame:
    """Rows and last fetch time per stored (symbol, session_date) of an interval."""
    if not symbols or not days:
        return pd.DataFrame(columns=["symbol", "session_date", "rows", "fetched_at"])
    return con.execute(
        """
        SELECT symbol, session_date, count(*) AS rows, min(fetched_at) AS fetched_at
        FROM intraday_prices
        WHERE interval = ? AND symbol IN (SELECT unnest(?)) AND session_date BETWEEN ? AND ?
        GROUP BY symbol, session_date
        """,
        [interval, list(symbols), min(days), max(days)],
    ).df()


def slice_states(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str], days: Sequence[date], interval: str
) -> list[SliceState]:
    """The state of every requested (symbol, day), stored or not."""
    stored = stored_slices(con, symbols, days, interval)
    closes = {d: pd.Timestamp(session_close(d)) for d in days}
    expected = {d: expected_bar_count(d, interval) for d in days}
    found: dict[tuple[str, date], tuple[int, pd.Timestamp]] = {}
    for symbol, day, rows, fetched in stored.itertuples(index=False):
        found[(symbol, pd.Timestamp(day).date())] = (int(rows), pd.Timestamp(fetched))
    states = []
    for symbol in symbols:
        for day in days:
            rows, fetched = found.get((symbol, day), (0, None))
            final = fetched is not None and fetched.tz_convert("UTC") >= closes[day]
            states.append(SliceState(symbol, day, rows, expected[day], final))
    return states
