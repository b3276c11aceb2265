"""Which (symbol, day) slices are complete, provisional or missing, from DuckDB."""

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from stock_pipeline.domain.trading_calendar import session_close
from stock_pipeline.warehouse.completeness import slice_states
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

MON, TUE = date(2026, 11, 23), date(2026, 11, 24)


def store(path: Path, frame: pd.DataFrame, fetched: pd.Timestamp) -> None:
    with connect(path) as con:
        replace_slices(con, INTRADAY_PRICES, frame, {"fetched_at": fetched})


def test_each_slice_is_complete_provisional_or_missing(duckdb_file: Path) -> None:
    after_close = pd.Timestamp(session_close(MON)) + timedelta(hours=1)
    store(duckdb_file, bars("AAPL", MON), after_close)
    during = pd.Timestamp(session_close(TUE)) - timedelta(hours=2)
    store(duckdb_file, bars("AAPL", TUE).iloc[:50], during)
    store(duckdb_file, bars("MSFT", TUE, interval="1m"), after_close + timedelta(days=1))
    with connect(duckdb_file, read_only=True) as con:
        states = slice_states(con, ["AAPL", "MSFT"], [MON, TUE], "5m")
    found = {(s.symbol, s.day): (s.status, s.rows, s.expected) for s in states}
    assert found == {
        ("AAPL", MON): ("complete", 78, 78),
        ("AAPL", TUE): ("provisional", 50, 78),
        ("MSFT", MON): ("missing", 0, 78),
        ("MSFT", TUE): ("missing", 0, 78),  # its 1m bars do not count for 5m
    }
    assert [(s.symbol, s.day) for s in states] == [
        ("AAPL", MON),
        ("AAPL", TUE),
        ("MSFT", MON),
        ("MSFT", TUE),
    ]


def test_nothing_asked_nothing_read(duckdb_file: Path) -> None:
    with connect(duckdb_file, read_only=True) as con:
        assert slice_states(con, [], [MON], "5m") == []
        assert slice_states(con, ["AAPL"], [], "5m") == []


def test_an_answer_is_final_only_after_the_close_plus_the_grace_period(duckdb_file: Path) -> None:
    close = pd.Timestamp(session_close(MON))
    store(duckdb_file, bars("AAPL", MON), close + timedelta(minutes=5))
    store(duckdb_file, bars("MSFT", MON), close + timedelta(minutes=20))
    with connect(duckdb_file, read_only=True) as con:
        states = {s.symbol: s.status for s in slice_states(con, ["AAPL", "MSFT"], [MON], "5m")}
        longer = slice_states(con, ["MSFT"], [MON], "5m", grace=timedelta(minutes=30))
    assert states == {"AAPL": "provisional", "MSFT": "complete"}
    assert longer[0].status == "provisional"


def test_a_final_slice_short_of_the_interval_s_tolerance_is_short(duckdb_file: Path) -> None:
    after_close = pd.Timestamp(session_close(MON)) + timedelta(hours=1)
    store(duckdb_file, bars("AAPL", MON).iloc[:77], after_close)  # one no-trade bar dropped
    store(duckdb_file, bars("MSFT", MON).iloc[:76], after_close)  # two: short at 5m
    store(duckdb_file, bars("KO", MON, "60m").iloc[:6], after_close)  # 6 of 7 hourly: short
    with connect(duckdb_file, read_only=True) as con:
        five = {s.symbol: s.status for s in slice_states(con, ["AAPL", "MSFT"], [MON], "5m")}
        (hourly,) = slice_states(con, ["KO"], [MON], "60m")
    assert five == {"AAPL": "complete", "MSFT": "short"}
    assert (hourly.status, hourly.rows, hourly.expected, hourly.fewest) == ("short", 6, 7, 7)
