"""symbols quarantined / symbols enable: a person sees the quarantine and lifts it."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.services.instance import get_instance
from stock_pipeline.services.quarantine import quarantined_symbols
from stock_pipeline_tests.support.quarantine import quarantine_symbol

Cli = Callable[..., Result]
SINCE = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)


@pytest.fixture
def cli(isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def test_nothing_quarantined(cli: Cli) -> None:
    result = cli("symbols", "quarantined")
    assert (result.exit_code, result.output) == (0, "no quarantined symbols\n")


def test_the_listing_names_each_symbol_and_the_command_to_lift_them(cli: Cli) -> None:
    instance = get_instance()
    quarantine_symbol(instance, "ZZDEAD", "SymbolNotFoundError: unknown", SINCE)
    quarantine_symbol(instance, "ZZEMPTY", "NoDataError: no bars", SINCE)
    result = cli("symbols", "quarantined")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("ZZDEAD\tsince 2026-11-24T21:30:00+00:00")
    assert lines[0].endswith("last: SymbolNotFoundError: unknown")
    assert lines[-1] == "re-enable with: stock-pipeline symbols enable ZZDEAD ZZEMPTY"


def test_enable_lifts_named_symbols_and_says_which_were_not_quarantined(cli: Cli) -> None:
    quarantine_symbol(get_instance(), "ZZDEAD", "SymbolNotFoundError: unknown", SINCE)
    result = cli("symbols", "enable", "zzdead", "KO")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "ZZDEAD: enabled (failure count reset)",
        "KO: not quarantined",
    ]
    assert quarantined_symbols(get_instance()) == {}


def test_enable_refuses_a_bad_symbol_with_exit_2(cli: Cli) -> None:
    quarantine_symbol(get_instance(), "ZZDEAD", "SymbolNotFoundError: unknown", SINCE)
    result = CliRunner().invoke(main, ["symbols", "enable", "ZZ;DEAD"])
    assert result.exit_code == 2
    assert "characters" in result.output
    assert list(quarantined_symbols(get_instance())) == ["ZZDEAD"]  # nothing changed
