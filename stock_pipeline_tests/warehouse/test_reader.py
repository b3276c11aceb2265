"""stock_pipeline.connect(): the notebook's read-only view of the lake, now or as of a past
instant, read with pandas or polars (the README's example)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

import stock_pipeline
from stock_pipeline.warehouse.lake import LakeUnavailableError
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

DAY = date(2026, 11, 24)
FETCHED = {"fetched_at": datetime(2026, 11, 24, 22, 0, tzinfo=UTC)}


def test_a_notebook_reads_with_pandas_and_polars_and_cannot_write(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, bars("AAPL", DAY, price=100.0), FETCHED)
    con = stock_pipeline.connect()
    try:
        frame = con.sql("SELECT * FROM intraday_prices WHERE symbol = 'AAPL'").df()
        table = con.sql("SELECT symbol, close FROM intraday_prices_adjusted").pl()
        assert len(frame) == 78 and set(frame["open"]) == {100.0}
        assert isinstance(table, pl.DataFrame) and table.height == 78
        with pytest.raises(duckdb.Error, match=r"read-only|read only"):
            con.execute("DELETE FROM intraday_prices")
    finally:
        con.close()


def test_as_of_reads_the_warehouse_as_it_was(duckdb_file: Path) -> None:
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, bars("AAPL", DAY, price=100.0), FETCHED)
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, bars("AAPL", DAY, price=200.0), FETCHED)
        replace_slices(con, INTRADAY_PRICES, bars("MSFT", DAY, price=300.0), FETCHED)
    then = stock_pipeline.connect(as_of=between.isoformat())
    now = stock_pipeline.connect()
    try:
        query = "SELECT symbol, min(open), count(*) FROM intraday_prices GROUP BY 1 ORDER BY 1"
        assert then.execute(query).fetchall() == [("AAPL", 100.0, 78)]
        assert now.execute(query).fetchall() == [("AAPL", 200.0, 78), ("MSFT", 300.0, 78)]
    finally:
        then.close()
        now.close()


def test_no_warehouse_yet_is_a_clear_error(duckdb_file: Path) -> None:
    with pytest.raises(LakeUnavailableError, match="run a sync first"):
        stock_pipeline.connect()
