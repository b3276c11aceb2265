from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from stock_pipeline.warehouse.lake import Lake, forget_shared, open_connection
from stock_pipeline.warehouse.tables import (
    INTRADAY_PRICES,
    DuplicateKeyError,
    _layout_changes,
    connect,
    read_slices,
    replace_slices,
)
from stock_pipeline_tests.support.frames import bars

DAY1, DAY2 = date(2026, 11, 24), date(2026, 11, 25)


def stamped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(fetched_at=pd.Timestamp("2026-11-25 22:00", tz="UTC"))


def test_failed_write_keeps_old_rows(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, stamped(bars("AAPL", DAY1, price=100)))
        broken = stamped(bars("AAPL", DAY1, price=200))
        broken.loc[1, "ts"] = broken.loc[0, "ts"]  # duplicate key: the write must be refused
        with pytest.raises(DuplicateKeyError, match="2 rows for one key"):
            replace_slices(con, INTRADAY_PRICES, broken)
        prices = con.execute("SELECT DISTINCT open FROM intraday_prices").fetchall()
        count = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    assert prices == [(100.0,)]
    assert count == (78,)


def test_columns_match_by_name_not_position(duckdb_file: Path) -> None:
    frame = stamped(bars("AAPL", DAY1))
    shuffled = frame[list(reversed(frame.columns))]
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, shuffled)
        row = con.execute(
            "SELECT symbol, open, high, volume FROM intraday_prices LIMIT 1"
        ).fetchone()
    assert row == ("AAPL", 100.0, 101.0, 1000)


def test_only_the_slices_in_the_frame_are_replaced(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        replace_slices(
            con,
            INTRADAY_PRICES,
            stamped(pd.concat([bars("AAPL", DAY1), bars("AAPL", DAY2), bars("MSFT", DAY1)])),
        )
        # A non-rectangular write: AAPL on DAY2 and MSFT on DAY1 only.
        replace_slices(
            con,
            INTRADAY_PRICES,
            stamped(pd.concat([bars("AAPL", DAY2, price=7), bars("MSFT", DAY1, price=9)])),
        )
        got = con.execute(
            "SELECT symbol, session_date, min(open), count(*) FROM intraday_prices "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert got == [("AAPL", DAY1, 100.0, 78), ("AAPL", DAY2, 7.0, 78), ("MSFT", DAY1, 9.0, 78)]


def test_timestamps_are_stored_in_utc(duckdb_file: Path) -> None:
    frame = stamped(bars("AAPL", DAY1))
    frame["ts"] = frame["ts"].dt.tz_convert("America/New_York")
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, frame)
    raw = open_connection(Lake.at(duckdb_file), read_only=True)
    try:
        raw.execute("SET TimeZone = 'America/Los_Angeles'")
        first = raw.execute(
            "SELECT min(ts)::VARCHAR, min(ts) AT TIME ZONE 'UTC' FROM intraday_prices"
        ).fetchone()
    finally:
        raw.close()
    assert first is not None and str(first[1]) == "2026-11-24 14:30:00"


def test_unknown_or_missing_columns_are_refused(duckdb_file: Path) -> None:
    frame = stamped(bars("AAPL", DAY1))
    with connect(duckdb_file) as con:
        with pytest.raises(ValueError, match="lacks column"):
            replace_slices(con, INTRADAY_PRICES, frame.drop(columns=["volume"]))
        with pytest.raises(ValueError, match="unknown column"):
            replace_slices(con, INTRADAY_PRICES, frame.assign(extra=1))


def test_read_slices(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        replace_slices(
            con, INTRADAY_PRICES, stamped(pd.concat([bars("AAPL", DAY1), bars("AAPL", DAY2)]))
        )
        got = read_slices(con, INTRADAY_PRICES, [{"symbol": "AAPL", "session_date": DAY2}])
    assert len(got) == 78 and set(got["session_date"].astype(str)) == {"2026-11-25"}


def test_constants_fill_columns_the_frame_lacks(duckdb_file: Path) -> None:
    frame = bars("AAPL", DAY1)  # no fetched_at: given once, not copied into the frame
    stamp = pd.Timestamp("2026-11-25 22:00", tz="UTC")
    with connect(duckdb_file) as con:
        assert replace_slices(con, INTRADAY_PRICES, frame, {"fetched_at": stamp}) == 78
        stored = con.execute("SELECT DISTINCT fetched_at FROM intraday_prices").fetchall()
    assert "fetched_at" not in frame.columns
    assert [pd.Timestamp(t) for (t,) in stored] == [stamp]


# The stocks layout today's main writes (before `timezone` was declared).
LEGACY_STOCKS = (
    'CREATE TABLE "stocks" ("symbol" VARCHAR NOT NULL, "long_name" VARCHAR, '
    '"short_name" VARCHAR, "exchange" VARCHAR, "currency" VARCHAR, "sector" VARCHAR, '
    '"industry" VARCHAR, "quote_type" VARCHAR, "fetched_at" TIMESTAMPTZ, PRIMARY KEY ("symbol"))'
)


def test_an_older_lake_gains_declared_columns_and_views_and_keeps_its_rows(
    duckdb_file: Path,
) -> None:
    lake = Lake.from_settings()
    old = open_connection(lake)
    try:
        old.execute(LEGACY_STOCKS.replace(', PRIMARY KEY ("symbol")', ""))
        old.execute(
            "INSERT INTO stocks (symbol, long_name, exchange, currency, quote_type) "
            "VALUES ('AAPL', 'Apple Inc.', 'NMS', 'USD', 'EQUITY')"
        )
    finally:
        old.close()
    forget_shared(lake)
    with connect(lake, read_only=True) as con:  # read-only still brings the layout up
        rows = con.execute("SELECT symbol, long_name, currency, timezone FROM stocks").fetchall()
        assert rows == [("AAPL", "Apple Inc.", "USD", None)]
        assert _layout_changes(con) == []  # nothing left to add
        views = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "ORDER BY 1"
        ).fetchall()
        assert views == [("daily_prices_adjusted",), ("intraday_prices_adjusted",)]
