"""Maintenance keeps the lake small; snapshots it keeps stay readable, expired ones free space."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from stock_pipeline import connect as open_reader
from stock_pipeline.defs.retention import delete_intraday_before
from stock_pipeline.warehouse.maintenance import footprint, maintain, snapshot_retention
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)


def parquet_on_disk(warehouse: Path) -> tuple[int, int]:
    files = list((warehouse / "files").rglob("*.parquet"))
    return len(files), sum(f.stat().st_size for f in files)


def write(warehouse: Path, symbol: str, day: date, price: float) -> None:
    with connect(warehouse) as con:
        replace_slices(con, INTRADAY_PRICES, bars(symbol, day, price=price), {"fetched_at": None})


def test_maintenance_merges_files_and_expiry_frees_their_space(warehouse_dir: Path) -> None:
    for n in range(6):  # hourly syncs replacing today's slices
        write(warehouse_dir, "AAPL", DAY2, 100 + n)
        write(warehouse_dir, "MSFT", DAY2, 200 + n)
    files_before, _ = parquet_on_disk(warehouse_dir)
    with connect(warehouse_dir) as con:
        before = footprint(con)
        report = maintain(con, timedelta(0), datetime.now(UTC))
        rows = con.execute(
            "SELECT symbol, count(*), min(open) FROM intraday_prices GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    files_after, _ = parquet_on_disk(warehouse_dir)
    assert report.before == before
    assert report.after.data_files < before.data_files
    assert report.after.snapshots == 1 < before.snapshots
    assert report.snapshots_expired >= before.snapshots - 1
    assert report.files_deleted > 0 and files_after < files_before
    assert rows == [("AAPL", 78, 105.0), ("MSFT", 78, 205.0)]  # the data is untouched
    assert report.metadata()["data_files_after"] == report.after.data_files


def test_retention_deletes_through_the_lake_and_expiry_frees_the_space(
    warehouse_dir: Path,
) -> None:
    write(warehouse_dir, "AAPL", DAY1, 100)
    write(warehouse_dir, "AAPL", DAY2, 100)
    with connect(warehouse_dir) as con:
        deleted = delete_intraday_before(con, DAY2)
        kept = con.execute("SELECT DISTINCT session_date FROM intraday_prices").fetchall()
        held = footprint(con)
        maintain(con, timedelta(0), datetime.now(UTC))
        after = footprint(con)
    assert deleted["rows"].tolist() == [78]
    assert kept == [(DAY2,)]
    assert after.data_bytes < held.data_bytes


def test_snapshots_younger_than_the_retention_are_kept(warehouse_dir: Path) -> None:
    write(warehouse_dir, "AAPL", DAY1, 100)
    time.sleep(0.05)
    cutoff = datetime.now(UTC)
    time.sleep(0.05)
    write(warehouse_dir, "AAPL", DAY2, 100)
    with connect(warehouse_dir) as con:
        before = footprint(con)
        report = maintain(con, datetime.now(UTC) - cutoff, datetime.now(UTC))
        times = con.execute("SELECT snapshot_time FROM ducklake_snapshots('lake')").fetchall()
    # Only the snapshots before the cutoff went: the second write's is still readable.
    assert 0 < report.snapshots_expired < before.snapshots
    assert all(t >= cutoff for (t,) in times)


def test_a_reader_can_ask_what_the_warehouse_held_at_a_past_instant(
    warehouse_dir: Path,
) -> None:
    write(warehouse_dir, "AAPL", DAY2, 100)
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    write(warehouse_dir, "AAPL", DAY2, 150)
    then = open_reader(as_of=between)
    now = open_reader()
    try:
        assert then.execute("SELECT DISTINCT open FROM intraday_prices").fetchall() == [(100.0,)]
        assert now.execute("SELECT DISTINCT open FROM intraday_prices").fetchall() == [(150.0,)]
        at = now.execute(
            "SELECT DISTINCT open FROM intraday_prices AT (TIMESTAMP => ?)", [between]
        ).fetchall()
        assert at == [(100.0,)]
        with pytest.raises(Exception, match="read-only"):
            now.execute("DELETE FROM intraday_prices")
    finally:
        then.close()
        now.close()


def test_the_snapshot_retention_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_SNAPSHOT_RETENTION_DAYS", "30")
    assert snapshot_retention() == timedelta(days=30)
    monkeypatch.setenv("STOCK_PIPELINE_SNAPSHOT_RETENTION_DAYS", "a week")
    with pytest.raises(ValueError, match="is not a number of days"):
        snapshot_retention()
