"""runs, run, schedules and sync … --background, against a temporary DAGSTER_HOME."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.fake_yahoo import FakeYahoo

Cli = Callable[..., Result]


@pytest.fixture
def cli(fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line on a fresh DAGSTER_HOME with AAPL, MSFT, ZZGONE registered."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    monkeypatch.delenv("STOCK_PIPELINE_EAGER", raising=False)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    assert run("symbols", "add", "--no-verify", "AAPL,MSFT,ZZGONE").exit_code == 0
    return run


def _run_ids() -> list[str]:
    with dg.DagsterInstance.get() as instance:
        return [r.run_id for r in instance.get_runs()]


def test_background_sync_queues_runs_and_prints_how_to_follow_them(cli: Cli) -> None:
    result = cli(
        "sync-intraday",
        "--symbols",
        "AAPL,MSFT",
        "--date",
        "2026-11-25",
        "--background",
        "--batch-size",
        "1",
        "--delay",
        "0.25",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert "queued 2 run(s) for dagster-daemon" in result.stdout
    ids = _run_ids()
    assert len(ids) == 2 and all(i in result.stdout for i in ids)
    assert "stock-pipeline run RUN_ID" in result.stdout
    assert "dagster-daemon is not running" in result.stderr
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs():
            assert run.status == dg.DagsterRunStatus.QUEUED
            assert run.tags["stock_pipeline/origin"] == "background"
            config: Any = run.run_config
            yahoo = config["resources"]["yahoo"]["config"]
            assert yahoo["requests_per_second"] == yahoo["max_requests_per_second"] == 4.0
    queued = cli("runs", "--queued")
    assert queued.stdout.count("queued") == 2 and "2026-11-25|AAPL" in queued.stdout
    assert "dagster-daemon is not running" in queued.stderr
    assert cli("runs", "--active").stdout.strip() == "no active runs"
    shown = cli("run", ids[0][:8], "--tail", "3")
    assert shown.exit_code == 0
    assert f"run {ids[0]}" in shown.stdout and "status:     queued" in shown.stdout
    assert "RUN_ENQUEUED" in shown.stdout


def test_eager_background_sync_runs_here_and_run_shows_the_result_and_log(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_EAGER", "1")
    result = cli("sync-intraday", "--symbols", "MSFT,ZZGONE", "--background", "--quiet")
    assert result.exit_code == 1, result.output  # one partition failed
    assert "ran in this process" in result.stdout
    assert "failed: 1 partition(s) stored, 1 failed" in result.stdout
    assert "failed 2026-11-25|ZZGONE: SymbolNotFoundError" in result.stdout
    (run_id,) = _run_ids()  # MSFT and ZZGONE are adjacent: one range run
    failed = cli("runs", "--failed")
    assert run_id[:8] in failed.stdout and "2026-11-25|MSFT…2026-11-25|ZZGONE" in failed.stdout
    shown = cli("run", run_id)
    assert "status:     failed (Dagster: FAILURE)" in shown.stdout
    (stored,) = [line for line in shown.stdout.splitlines() if "2026-11-25|MSFT " in line]
    assert int(stored.split()[1]) > 0  # rows
    assert "2026-11-25|ZZGONE: SymbolNotFoundError" in shown.stdout
    assert "RUN_FAILURE" in shown.stdout
    assert cli("sync-intraday", "--symbols", "AAPL", "--background").exit_code == 0
    every = cli("runs", "--limit", "5").stdout.splitlines()
    assert len(every) == 3  # header and two runs, newest first
    assert every[1].split()[1:3] == ["succeeded", "intraday_prices_job"]
    assert every[2].split()[1] == "failed" and "background" in every[2]


def test_run_with_an_unknown_id_exits_2(cli: Cli) -> None:
    result = cli("run", "nosuchrun")
    assert result.exit_code == 2 and "no run 'nosuchrun'" in result.stderr
    assert cli("runs").stdout.strip() == "no runs"


def test_schedules_lists_state_and_next_ticks_in_new_york_time(cli: Cli) -> None:
    result = cli("schedules", "--ticks", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    (header,) = [i for i, line in enumerate(lines) if line.startswith("market_open_schedule")]
    assert "30 9 * * 1-5 (America/New_York)" in lines[header]
    assert lines[header + 1].split()[:4] == ["Thu", "2026-11-26", "09:30", "EST"]
    assert "skips:" in lines[header + 1] and "Thanksgiving" in lines[header + 1]
    assert lines[header + 2].split()[:3] == ["Fri", "2026-11-27", "09:30"]
    assert lines[header + 2].endswith("run(s)")
