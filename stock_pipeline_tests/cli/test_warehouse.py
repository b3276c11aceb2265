"""stock-pipeline sql (now and --as-of) and warehouse migrate (from a DuckDB file or export)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, STOCKS, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def store(warehouse: Path, price: float) -> None:
    with connect(warehouse) as con:
        replace_slices(con, INTRADAY_PRICES, bars("AAPL", DAY2, price=price), {"fetched_at": None})


def test_sql_answers_now_and_as_of_a_past_instant(warehouse_dir: Path) -> None:
    store(warehouse_dir, 100)
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    store(warehouse_dir, 150)
    query = "SELECT DISTINCT open FROM intraday_prices"
    assert run("sql", query).output.split() == ["open", "150.0"]
    then = run("sql", "--as-of", between, "--csv", query)
    assert then.exit_code == 0 and then.output == "open\n100.0\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--as-of", "yesterday", "SELECT 1"], "--as-of: 'yesterday' is not an ISO 8601 instant"),
        (["--as-of", "2020-01-01", "SELECT 1"], "cannot open the warehouse as of 2020-01-01"),
        (["SELECT * FROM nowhere"], "the query failed"),
        (["DELETE FROM intraday_prices"], "read-only"),
    ],
)
def test_sql_errors_are_clear(warehouse_dir: Path, args: list[str], says: str) -> None:
    store(warehouse_dir, 100)
    result = run("sql", *args)
    assert result.exit_code == 2
    assert says in result.output


def old_warehouse(path: Path) -> None:
    """A warehouse file as earlier versions wrote it: primary keys, no lake."""
    con = duckdb.connect(str(path))
    try:
        for table in (INTRADAY_PRICES, STOCKS):
            cols = ", ".join(f'"{c}" {t}' for c, t in table.columns)
            key = ", ".join(table.key)
            con.execute(f"CREATE TABLE {table.name} ({cols}, PRIMARY KEY ({key}))")
        frame = pd.concat(
            [bars("AAPL", DAY1), bars("AAPL", DAY2), bars("MSFT", DAY2)], ignore_index=True
        ).assign(fetched_at=pd.Timestamp("2026-11-24 22:00", tz="UTC"))
        con.register("frame", frame)
        con.execute("INSERT INTO intraday_prices SELECT * FROM frame")
        con.execute(
            "INSERT INTO stocks (symbol, long_name) VALUES ('AAPL', 'Apple'), ('MSFT', 'Microsoft')"
        )
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrate_copies_verifies_and_keeps_the_old_file(
    tmp_path: Path, warehouse_dir: Path
) -> None:
    old = tmp_path / "data" / "warehouse.duckdb"  # $STOCK_PIPELINE_DUCKDB in the test setup
    old.parent.mkdir(parents=True, exist_ok=True)
    old_warehouse(old)
    before = digest(old)
    store(warehouse_dir, 999)  # the lake already holds AAPL on DAY2: replaced, not doubled
    result = run("warehouse", "migrate")
    assert result.exit_code == 0, result.output
    assert "intraday_prices         234 rows      2 symbol(s)  verified" in result.output
    assert "stocks                    2 rows      2 symbol(s)  verified" in result.output
    assert digest(old) == before
    with connect(warehouse_dir, read_only=True) as con:
        got = con.execute(
            "SELECT symbol, session_date, count(*), max(open) FROM intraday_prices "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert got == [("AAPL", DAY1, 78, 100.0), ("AAPL", DAY2, 78, 100.0), ("MSFT", DAY2, 78, 100.0)]


def test_migrate_reads_an_export_folder(tmp_path: Path, warehouse_dir: Path) -> None:
    old = tmp_path / "old.duckdb"
    old_warehouse(old)
    export = tmp_path / "old-export"
    con = duckdb.connect(str(old), read_only=True)
    con.execute(f"EXPORT DATABASE '{export}' (FORMAT parquet)")
    con.close()
    result = run("warehouse", "migrate", "--from", str(export))
    assert result.exit_code == 0, result.output
    assert "intraday_prices         234 rows" in result.output


# The 4 KiB main header of a file DuckDB 2.0.1 wrote (storage version 999): all DuckDB
# 1.4.4 reads before refusing it.
NEWER_FILE = Path(__file__).parents[1] / "fixtures" / "duckdb" / "written-by-2.0.1-header.duckdb"


def test_a_file_from_a_newer_duckdb_is_refused_with_the_export_commands(tmp_path: Path) -> None:
    old = tmp_path / "warehouse.duckdb"
    old.write_bytes(NEWER_FILE.read_bytes())
    result = run("warehouse", "migrate", "--from", str(old))
    assert result.exit_code == 2
    assert "written by a newer DuckDB (2.x)" in result.output
    assert "version number 999" in result.output
    assert "EXPORT DATABASE" in result.output and "--from" in result.output
    assert old.read_bytes() == NEWER_FILE.read_bytes()


def test_migrating_nothing_is_a_clear_error(tmp_path: Path) -> None:
    result = run("warehouse", "migrate", "--from", str(tmp_path / "missing.duckdb"))
    assert result.exit_code == 2 and "does not exist: nothing to migrate" in result.output
