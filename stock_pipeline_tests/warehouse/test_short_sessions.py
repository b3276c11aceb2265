"""short_sessions: each final short answer counted once, confirmed after the bound, cleared
when repaired; provisional answers leave it alone; old files read as having none."""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from stock_pipeline.domain.trading_calendar import session_close
from stock_pipeline.warehouse.lake import Lake, open_connection
from stock_pipeline.warehouse.short_sessions import (
    short_records,
    short_session_notes,
    store_intraday,
)
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect
from stock_pipeline_tests.support.frames import bars

MON = date(2026, 11, 23)
CLOSE = pd.Timestamp(session_close(MON))
GRACE = timedelta(minutes=15)


def store(path: Path, frame: pd.DataFrame, fetched: pd.Timestamp, refetches: int = 2) -> None:
    with connect(path) as con:
        store_intraday(con, frame, {"fetched_at": fetched}, GRACE, refetches)


def record(path: Path, symbol: str = "AAPL") -> Any:
    """The slice's ShortRecord, or None."""
    with connect(path, read_only=True) as con:
        return short_records(con, [symbol], "5m", MON, MON).get((symbol, MON))


def test_short_fetches_are_counted_until_confirmed(duckdb_file: Path) -> None:
    short = bars("AAPL", MON).iloc[:60]
    first = CLOSE + timedelta(hours=1)
    store(duckdb_file, short, first)
    got = record(duckdb_file)
    assert got is not None
    assert (got.bars, got.expected, got.fetches, got.confirmed) == (60, 78, 1, False)
    store(duckdb_file, short, first)  # the same answer written again: not a new fetch
    assert record(duckdb_file).fetches == 1
    store(duckdb_file, short, first + timedelta(hours=1))
    assert (record(duckdb_file).fetches, record(duckdb_file).confirmed) == (2, False)
    third = first + timedelta(hours=2)
    store(duckdb_file, short, third)
    got = record(duckdb_file)
    assert (got.fetches, got.confirmed_at, got.first_short_at) == (3, third, first)
    store(duckdb_file, short, first + timedelta(hours=3))  # a forced fetch: still confirmed
    assert (record(duckdb_file).fetches, record(duckdb_file).confirmed_at) == (4, third)


def test_a_complete_answer_repairs_and_a_provisional_one_changes_nothing(
    duckdb_file: Path,
) -> None:
    store(duckdb_file, bars("AAPL", MON).iloc[:60], CLOSE + timedelta(hours=1))
    store(duckdb_file, bars("AAPL", MON).iloc[:60], CLOSE + timedelta(minutes=5))  # in grace
    assert record(duckdb_file).fetches == 1
    store(duckdb_file, bars("AAPL", MON).iloc[:77], CLOSE + timedelta(hours=2))
    assert record(duckdb_file) is None
    with connect(duckdb_file, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM intraday_prices").fetchone() == (77,)


def test_no_refetch_allowed_confirms_the_first_short_answer(duckdb_file: Path) -> None:
    store(duckdb_file, bars("AAPL", MON).iloc[:60], CLOSE + timedelta(hours=1), refetches=0)
    assert record(duckdb_file).confirmed


def test_notes_say_what_storing_will_record(duckdb_file: Path) -> None:
    frame = pd.concat([bars("AAPL", MON).iloc[:60], bars("MSFT", MON)], ignore_index=True).assign(
        fetched_at=CLOSE + timedelta(hours=1)
    )
    notes = short_session_notes(None, frame, "5m", GRACE, 2)
    assert list(notes) == ["2026-11-23|AAPL"]
    assert notes["2026-11-23|AAPL"]["short_session_fetches"] == 1
    assert "pending repair: 60 of 78 bars" in str(notes["2026-11-23|AAPL"]["short_session"])
    store(duckdb_file, frame.drop(columns="fetched_at"), CLOSE + timedelta(hours=1))
    store(duckdb_file, bars("AAPL", MON).iloc[:60], CLOSE + timedelta(hours=2))
    later = frame.assign(fetched_at=CLOSE + timedelta(hours=3))
    with connect(duckdb_file, read_only=True) as con:
        confirmed = short_session_notes(con, later, "5m", GRACE, 2)["2026-11-23|AAPL"]
        repaired = short_session_notes(
            con, bars("AAPL", MON).assign(fetched_at=CLOSE + timedelta(hours=3)), "5m", GRACE, 2
        )["2026-11-23|AAPL"]
    assert confirmed["short_session_fetches"] == 3
    assert str(confirmed["short_session"]).startswith("short, confirmed: 60 of 78 bars")
    assert str(repaired["short_session"]).startswith("repaired: 78 bars after 2 short fetch(es)")


def test_a_lake_without_the_table_reads_as_none_and_gains_it_on_a_write(
    duckdb_file: Path,
) -> None:
    con = open_connection(Lake.from_settings())  # a lake written before short_sessions existed
    con.execute(INTRADAY_PRICES.ddl())
    con.close()
    with connect(duckdb_file, read_only=True) as ro:
        assert short_records(ro, ["AAPL"], "5m", MON, MON) == {}
    store(duckdb_file, bars("AAPL", MON).iloc[:60], CLOSE + timedelta(hours=1))
    assert record(duckdb_file).fetches == 1
