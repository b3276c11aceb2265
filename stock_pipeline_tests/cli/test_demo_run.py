"""The offline demo: fake Yahoo, real Dagster runs, local DuckDB; a rerun skips what is done."""

from pathlib import Path

import pytest

from stock_pipeline.cli.demo_run import run_demo
from stock_pipeline.defs.resources import YAHOO_URL_ENV
from stock_pipeline.warehouse.tables import connect


@pytest.fixture
def demo_env(isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo sets these itself; setting them here restores them after the test."""
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    monkeypatch.setenv(YAHOO_URL_ENV, "unset")
    return isolated_paths


def test_the_demo_stores_bars_and_quotes_and_a_rerun_fetches_only_what_is_open(
    demo_env: Path, duckdb_file: Path
) -> None:
    lines: list[str] = []
    assert run_demo(["AAPL", "KO"], 1, echo=lines.append) == 0
    text = "\n".join(lines)
    assert "(no network used)" in lines[0]
    assert "symbols: AAPL, KO (2 newly registered)" in text
    assert "intraday_prices at 5m: 2 partition(s) to fetch for 2 symbol(s), 0 already" in text
    assert "current prices: stored" in text
    with connect(duckdb_file, read_only=True) as con:
        counts = con.execute(
            "SELECT symbol, count(*) FROM intraday_prices GROUP BY 1 ORDER BY 1"
        ).fetchall()
        quotes = con.execute("SELECT symbol FROM current_prices ORDER BY 1").fetchall()
    assert [s for s, _ in counts] == ["AAPL", "KO"] and quotes == [("AAPL",), ("KO",)]
    for symbol, count in counts:
        assert 77 <= count <= 78  # a full session, less at most one all-null bar Yahoo drops
        assert f"  {symbol:<6} 1 day(s) {count:>5} bars" in text  # what it says is stored

    again: list[str] = []
    assert run_demo(["AAPL", "KO"], 1, echo=again.append) == 0
    assert "symbols: AAPL, KO (0 newly registered)" in again
    assert any("0 partition(s) to fetch for 2 symbol(s), 2 already complete" in x for x in again)
