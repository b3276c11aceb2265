"""stock-pipeline chart: a candlestick PNG from stored bars, clear errors when there are none."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from stock_pipeline.cli import main
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

# The suite's clock is 2026-11-25 after the close: the last 5 sessions are 11-19 … 11-25.
STORED = [date(2026, 11, 20), date(2026, 11, 24), date(2026, 11, 25)]


@pytest.fixture
def stored(duckdb_file: Path) -> Path:
    frame = pd.concat([bars("AAPL", d) for d in STORED], ignore_index=True)
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, frame.assign(fetched_at=pd.Timestamp.now(tz="UTC")))
    return duckdb_file


def chart(*args: str) -> Result:
    return CliRunner().invoke(main, ["chart", *args], catch_exceptions=False)


def test_chart_of_the_last_sessions(stored: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts" / "aapl.png"
    result = chart("aapl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "AAPL · 5m · 2026-11-20 … 2026-11-25 · 234 bars" in result.output
    with Image.open(io.BytesIO(out.read_bytes())) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_days_and_end_choose_the_window(stored: Path, tmp_path: Path) -> None:
    result = chart("AAPL", "--days", "2", "--out", str(tmp_path / "a.png"))
    assert result.exit_code == 0
    assert "2026-11-24 … 2026-11-25 · 156 bars" in result.output
    # The weekend before 11-23 counts as its Friday; 2 sessions back from it: 11-19, 11-20.
    result = chart("AAPL", "--end", "2026-11-22", "--days", "2", "--out", str(tmp_path / "b.png"))
    assert result.exit_code == 0
    assert "AAPL · 5m · 2026-11-20 · 78 bars" in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["MSFT"], "nothing is stored for MSFT: sync it first"),
        (["AAPL", "--interval", "15m"], "no 15m bars are stored for AAPL; stored: 5m"),
        (["AAPL", "--interval", "1d"], "stock-pipeline sync-historical --symbols AAPL"),
        (["AAPL", "--interval", "3m"], "unknown intraday interval '3m'"),
        (["AAPL", "--days", "0"], "--days"),
        (["AAPL", "--end", "2026-12-01"], "--end 2026-12-01 is in the future"),
    ],
)
def test_clear_errors_with_exit_code_2(
    stored: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "x.png"
    result = chart(*args, "--out", str(out))
    assert result.exit_code == 2
    assert says in result.output
    assert not out.exists()


def test_bars_outside_the_window_point_at_days(duckdb_file: Path, tmp_path: Path) -> None:
    old = bars("AAPL", date(2026, 10, 1))
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, old.assign(fetched_at=pd.Timestamp.now(tz="UTC")))
    result = chart("AAPL", "--out", str(tmp_path / "x.png"))
    assert result.exit_code == 2
    assert "no 5m bars of AAPL in the last 5 session(s) (2026-11-19 … 2026-11-25)" in result.output
    assert "5m 2026-10-01 … 2026-10-01 (78 bars)" in result.output
    assert "--days" in result.output
    assert chart("AAPL", "--days", "40", "--out", str(tmp_path / "x.png")).exit_code == 0


def test_no_warehouse_yet(tmp_path: Path) -> None:
    result = chart("AAPL", "--out", str(tmp_path / "x.png"))
    assert result.exit_code == 2 and "nothing has been synced yet" in result.output
