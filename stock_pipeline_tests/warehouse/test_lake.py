"""The warehouse as a DuckLake across real processes: nobody waits, nothing is duplicated."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from stock_pipeline.warehouse.lake import Lake, LakeUnavailableError
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.processes import hammer_slice, hold_warehouse

HOLD = 6.0
DAY = date(2026, 11, 24)


def holding(database: Path, write: bool) -> tuple[multiprocessing.process.BaseProcess, object]:
    """Another process holding a warehouse transaction open for HOLD seconds."""
    spawn = multiprocessing.get_context("spawn")
    opened = spawn.Event()
    seen = spawn.Queue()
    child = spawn.Process(target=hold_warehouse, args=(str(database), write, HOLD, opened, seen))
    child.start()
    assert opened.wait(timeout=60), "the holding process never opened the warehouse"
    return child, seen


def store(database: Path, symbol: str, price: float = 100.0) -> float:
    """Replace one slice; returns the seconds it took."""
    started = time.monotonic()
    with connect(database) as con:
        replace_slices(con, INTRADAY_PRICES, bars(symbol, DAY, price=price), {"fetched_at": None})
    return time.monotonic() - started


@pytest.mark.integration
def test_a_reader_holding_a_snapshot_never_delays_a_write(duckdb_file: Path) -> None:
    store(duckdb_file, "AAPL")
    child, seen = holding(duckdb_file, write=False)
    try:
        took = store(duckdb_file, "MSFT")
        still_open = child.is_alive()
    finally:
        child.join(timeout=60)
    assert still_open, "the reader let go before the write finished: the test proves nothing"
    assert took < HOLD / 2
    assert child.exitcode == 0
    # The reader kept its snapshot (78 rows) while the write committed (156 rows).
    assert [seen.get(timeout=5), seen.get(timeout=5)] == [78, 78]  # type: ignore[attr-defined]
    with connect(duckdb_file, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM intraday_prices").fetchone() == (156,)


@pytest.mark.integration
def test_a_write_in_progress_never_delays_a_reader(duckdb_file: Path) -> None:
    store(duckdb_file, "AAPL")
    child, _ = holding(duckdb_file, write=True)
    try:
        started = time.monotonic()
        with connect(duckdb_file, read_only=True) as con:
            rows = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
        took = time.monotonic() - started
        still_open = child.is_alive()
    finally:
        child.join(timeout=60)
    assert still_open
    assert took < HOLD / 2
    assert rows == (78,)  # the uncommitted slice is invisible
    assert child.exitcode == 0
    with connect(duckdb_file, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM intraday_prices").fetchone() == (156,)


def hammer(database: Path, workers: int, rounds: int) -> list[int]:
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        start = manager.Barrier(workers)
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            futures = [
                pool.submit(hammer_slice, str(database), w, rounds, start) for w in range(workers)
            ]
            return [f.result(timeout=600) for f in futures]


def assert_one_slice_without_duplicates(database: Path, workers: int, rounds: int) -> None:
    with connect(database, read_only=True) as con:
        got = con.execute(
            "SELECT count(*), count(DISTINCT ts), count(DISTINCT open) FROM intraday_prices"
        ).fetchone()
        price = con.execute("SELECT DISTINCT open FROM intraday_prices").fetchone()
    assert got == (78, 78, 1)  # one whole slice, one writer's version of it
    assert price is not None
    worker, n = divmod(int(price[0]) - 100, 1000)
    assert 0 <= worker < workers and 0 <= n < rounds


@pytest.mark.integration
def test_writers_hammering_one_slice_leave_no_duplicate(duckdb_file: Path) -> None:
    # The slice does not exist yet: the first replaces race on an empty slice, where a
    # DELETE + INSERT alone would let two inserts land side by side.
    workers, rounds = 4, 5
    written = hammer(duckdb_file, workers, rounds)
    assert written == [78 * rounds] * workers
    assert_one_slice_without_duplicates(duckdb_file, workers, rounds)


def test_a_setting_names_an_embedded_lake_or_a_postgres_catalog(tmp_path: Path) -> None:
    embedded = Lake.at(tmp_path / "w")
    assert embedded.catalog == f"sqlite:{tmp_path / 'w' / 'catalog.sqlite'}"
    assert embedded.data_path == f"{tmp_path / 'w' / 'files'}/"
    shared = Lake.at("postgres:dbname=lake host=db password=secret", "s3://bucket/prices")
    assert shared.data_path == "s3://bucket/prices/" and shared.on_object_storage
    assert "secret" not in str(shared)
    with pytest.raises(LakeUnavailableError, match="needs a data path every machine can reach"):
        Lake.at("postgres:dbname=lake")


def test_rows_are_parquet_files_under_the_data_directory(duckdb_file: Path) -> None:
    store(duckdb_file, "AAPL")
    files = list((duckdb_file / "files").rglob("*.parquet"))
    assert files and (duckdb_file / "catalog.sqlite").exists()
    with connect(duckdb_file, read_only=True) as con:
        current = [
            str(f)
            for (f,) in con.execute(
                "SELECT data_file FROM ducklake_list_files('lake', 'intraday_prices')"
            ).fetchall()
        ]
        assert current and set(current) <= {str(f) for f in files}
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [current]).fetchone() == (78,)
