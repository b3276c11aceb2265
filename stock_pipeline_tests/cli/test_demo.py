"""demo and fake-yahoo on the command line: bad input is refused before anything is stored."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from stock_pipeline.cli import main
from stock_pipeline.defs.resources import YAHOO_URL_ENV


@pytest.fixture(autouse=True)
def demo_env(isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    monkeypatch.setenv(YAHOO_URL_ENV, "unset")  # the demo sets it; restored after the test


def test_a_symbol_yahoo_does_not_know_stops_the_demo_with_exit_2(duckdb_file: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--symbols", "AAPL,ZZNOTREAL", "--days", "1"])
    assert result.exit_code == 2
    assert "error: ZZNOTREAL: Yahoo does not know these symbols" in result.output
    assert not duckdb_file.exists()  # nothing was synced


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--days", "0"], "0 is not in the range 1<=x<=30"),
        (["--symbols", "AA;PL"], "characters"),
    ],
)
def test_bad_demo_flags_exit_2(args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, ["demo", *args])
    assert result.exit_code == 2
    assert says in result.output


def test_fake_yahoo_lists_its_settings() -> None:
    result = CliRunner().invoke(main, ["fake-yahoo", "--help"])
    assert result.exit_code == 0
    assert "--rate-limit" in result.output and "STOCK_PIPELINE_YAHOO_URL" in result.output
