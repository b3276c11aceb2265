"""The stock-pipeline sync commands: plans, skips, bad flags, real Dagster runs on an instance."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.fake_yahoo import FakeYahoo

Cli = Callable[..., Result]


@pytest.fixture
def cli(
    fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run the command with DAGSTER_HOME under the test's data dir and the fake Yahoo."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def test_symbols_add_asks_yahoo_and_refuses_unknown(cli: Cli) -> None:
    result = cli("symbols", "add", "AAPL,ZZNOPE")
    assert result.exit_code == 2
    assert "ZZNOPE" in result.output and "nothing was added" in result.output
    assert cli("symbols", "list").output.split() == []
    assert cli("symbols", "add", "aapl", "MSFT").exit_code == 0
    assert cli("symbols", "list").output.split() == ["AAPL", "MSFT"]
    assert "removed: MSFT" in cli("symbols", "remove", "MSFT").output
    assert cli("symbols", "list").output.split() == ["AAPL"]


def test_symbols_add_refuses_instruments_that_do_not_trade_nyse_sessions(cli: Cli) -> None:
    result = CliRunner().invoke(
        main, ["symbols", "add", "AAPL", "EURUSD=X", "BTC-USD", "CL=F", "VOD.L"]
    )
    assert result.exit_code == 2
    lines = result.output.splitlines()
    for symbol, said in [
        ("EURUSD=X", "exchange CCY, timezone Europe/London, quoteType CURRENCY"),
        ("BTC-USD", "exchange CCC, timezone UTC, quoteType CRYPTOCURRENCY"),
        ("CL=F", "exchange NYM, timezone America/New_York, quoteType FUTURE"),
        ("VOD.L", "exchange LSE, timezone Europe/London, quoteType EQUITY, currency GBp"),
    ]:
        line = next(x for x in lines if symbol + ": Yahoo reports" in x)
        assert said in line and "refused:" in line
    assert "Nothing was added" in result.output
    assert cli("symbols", "list").output.split() == []  # not even AAPL
    accepted = cli("symbols", "add", "AAPL", "SPY", "^GSPC")
    assert accepted.exit_code == 0, accepted.output
    assert cli("symbols", "list").output.split() == ["AAPL", "SPY", "^GSPC"]


def test_sync_runs_through_dagster_then_skips_what_is_complete(
    cli: Cli, fake_yahoo: FakeYahoo, isolated_paths: Path
) -> None:
    assert cli("symbols", "add", "AAPL,MSFT").exit_code == 0
    first = cli("sync-intraday", "--start-date", "2026-11-20", "--end-date", "2026-11-25")
    assert first.exit_code == 0, first.output
    assert "8 partition(s) stored, 0 failed" in first.output
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].tags["stock_pipeline/interval"] == "5m"
        assert len(instance.get_materialized_partitions(dg.AssetKey("intraday_prices"))) == 8
    again = cli("sync-intraday", "--start-date", "2026-11-20", "--end-date", "2026-11-25")
    assert "nothing to do" in again.output and "8 already complete" in again.output
    forced = cli("sync-intraday", "--date", "2026-11-25", "--symbols", "MSFT", "--force")
    assert forced.exit_code == 0 and "1 partition(s) stored" in forced.output


def test_dry_run_prints_the_plan_and_changes_nothing(cli: Cli, fake_yahoo: FakeYahoo) -> None:
    cli("symbols", "add", "AAPL,MSFT,IBM")
    fake_yahoo.reset_counters()
    result = cli(
        "sync-intraday", "--dry-run", "--start-date", "2026-10-29", "--end-date", "2026-11-25"
    )
    assert result.exit_code == 0
    assert "60 partition(s) to fetch" in result.output
    assert "Yahoo price requests: 3" in result.output
    assert f"bars expected from the NYSE calendar: {60 * 78}" in result.output
    assert "dry run" in result.output
    assert fake_yahoo.requests["chart"] == 0
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []


def test_a_failed_symbol_gives_exit_code_1_and_names_it(cli: Cli) -> None:
    cli("symbols", "add", "AAPL")
    cli("symbols", "add", "--no-verify", "ZZGONE")
    result = cli("sync-intraday", "--date", "2026-11-25")
    assert result.exit_code == 1
    assert "1 partition(s) stored, 1 failed" in result.output
    assert "2026-11-25|ZZGONE: SymbolNotFoundError" in result.output


def test_batch_size_splits_runs(cli: Cli) -> None:
    cli("symbols", "add", "AAPL,MSFT,IBM")
    result = cli("sync-intraday", "--date", "2026-11-25", "--batch-size", "2", "--delay", "0.01")
    assert result.exit_code == 0 and "2 run(s)" in result.output


def test_historical_sync_by_period_and_dates(cli: Cli) -> None:
    cli("symbols", "add", "AAPL")
    result = cli("sync-historical", "--period", "2y")
    assert result.exit_code == 0, result.output
    assert "3 partition(s) stored" in result.output  # 2024, 2025, 2026
    weekly = cli(
        "sync-historical",
        "--interval",
        "1wk",
        "--start-date",
        "2026-01-01",
        "--end-date",
        "2026-06-30",
    )
    # 2026-01-02 is in the week of Monday 2025-12-29: 2025's partition holds it.
    assert weekly.exit_code == 0 and "2 partition(s) stored" in weekly.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sync-intraday", "--interval", "7m"], "unknown intraday interval"),
        (
            ["sync-intraday", "--start-date", "2026-11-25", "--end-date", "2026-11-01"],
            "after end date",
        ),
        (["sync-intraday", "--date", "2026-11-22"], "no NYSE trading day"),  # a Sunday
        (["sync-intraday", "--date", "2026-09-24"], "lookback"),  # a partition, too old for 5m
        (["sync-intraday", "--date", "2026-12-02"], "future"),
        (["sync-intraday", "--date", "2026-13-01"], "not a date"),
        (["sync-intraday", "--symbols", "AAPL;DROP"], "characters"),
        (["sync-intraday", "--symbols", "TSLA"], "not registered"),
        (["sync-intraday", "--delay", "0"], "--delay"),
        (["sync-historical", "--period", "3y"], "'3y' is not one of"),
        (["sync-historical", "--period", "1y", "--start-date", "2026-01-01"], "not both"),
        (["sync-historical", "--interval", "5m"], "1d or 1wk"),
    ],
)
def test_bad_flags_get_a_clear_message_and_exit_2(cli: Cli, args: list[str], says: str) -> None:
    cli("symbols", "add", "AAPL")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_progress_per_run_and_a_table_per_symbol(cli: Cli) -> None:
    cli("symbols", "add", "AAPL,MSFT")
    cli("symbols", "add", "--no-verify", "ZZGONE")
    days = ["--start-date", "2026-11-24", "--end-date", "2026-11-25", "--batch-size", "1"]
    result = cli("sync-intraday", *days)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    progress = [line for line in lines if line.startswith("  progress:")]
    assert len(progress) == 3  # one per run, i.e. per symbol here
    assert progress[0].startswith("  progress: 1/3 symbols, 2/6 partitions (2 stored, 0 failed)")
    assert progress[2].startswith("  progress: 3/3 symbols, 6/6 partitions (4 stored, 2 failed)")
    start = next(i for i, line in enumerate(lines) if line.startswith("symbol "))
    table = [line.split() for line in lines[start : start + 4]]
    assert table[0] == ["symbol", "stored", "failed", "rows", "requests"]
    assert [row[0] for row in table[1:]] == ["AAPL", "MSFT", "ZZGONE"]
    assert [row[1:3] for row in table[1:]] == [["2", "0"], ["2", "0"], ["0", "2"]]
    assert [row[4] for row in table[1:3]] == ["1", "1"]  # one request covers both days
    assert lines[start + 4].startswith("done: 4 partition(s) stored, 2 failed")

    quiet = cli("sync-intraday", *days, "--force", "--quiet")
    assert quiet.exit_code == 1
    (summary,) = quiet.stdout.splitlines()  # the Dagster log on stderr aside
    assert summary.startswith("done: 4 partition(s) stored, 2 failed")


def test_sync_actions_refreshes_corporate_actions_alone(cli: Cli, fake_yahoo: FakeYahoo) -> None:
    assert cli("symbols", "add", "SPLT,MSFT").exit_code == 0
    fake_yahoo.reset_counters()
    result = cli("sync-actions", "--symbols", "SPLT")
    assert result.exit_code == 0, result.output
    assert "1 symbol(s) refreshed, 1 new event(s)" in result.output  # the 4:1 split
    assert fake_yahoo.requests["chart"] == 1
    everything = cli("sync-actions")
    assert "2 symbol(s) refreshed" in everything.output
    failed = CliRunner().invoke(main, ["sync-actions", "--symbols", "ZZNOPE"])
    assert failed.exit_code == 1 and "ZZNOPE" in failed.output


def test_reverify_reports_and_repairs_a_yahoo_correction(cli: Cli, fake_yahoo: FakeYahoo) -> None:
    assert cli("symbols", "add", "MSFT,AAPL").exit_code == 0
    synced = cli("sync-historical", "--start-date", "2025-01-01", "--end-date", "2026-11-25")
    assert synced.exit_code == 0, synced.output
    weekly = cli(
        "sync-historical", "--interval", "1wk", "--symbols", "MSFT",
        "--start-date", "2025-01-01", "--end-date", "2025-12-31",
    )  # fmt: skip
    assert weekly.exit_code == 0, weekly.output
    fake_yahoo.config.bad_prints = {"MSFT": (date(2025, 3, 12),)}  # Yahoo corrects it
    fake_yahoo.config.bad_print_factor = 1.02

    fake_yahoo.reset_counters()
    dry = CliRunner().invoke(main, ["reverify", "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert "  MSFT: 1 of 477 date(s) differ (2025-03-12)\n" in dry.stdout
    assert "nothing stored" in dry.stdout
    assert fake_yahoo.requests["chart"] == 2  # one per symbol

    fixed = cli("reverify", "--symbols", "MSFT")
    assert fixed.exit_code == 0, fixed.output
    assert (
        "MSFT: 1 of 477 date(s) differ (2025-03-12); stored again: 2025; weekly rebuilt: 2025\n"
        in fixed.stdout
    )
    assert "1 partition(s) stored again, 1 weekly rebuilt," in fixed.stdout
    clean = cli("reverify")
    assert clean.exit_code == 0
    assert clean.stdout.splitlines()[-1].startswith(
        "done: 2 symbol(s) checked, 954 date(s) compared, 0 differ, 0 failed"
    )
