"""A sync's live progress on the console: a bar on a terminal, nothing but the summary if quiet."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.cli.progress_view import (
    LINE_SECONDS_ENV,
    ProgressView,
    figures,
    format_duration,
    line_seconds,
    progress_line,
)
from stock_pipeline.domain.progress import RunProgress, combine
from stock_pipeline.fake_yahoo import FakeYahoo

Cli = Callable[..., Result]


@pytest.fixture
def cli(fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line on a fresh DAGSTER_HOME, AAPL, MSFT and IBM registered."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    assert run("symbols", "add", "--no-verify", "AAPL,MSFT,IBM").exit_code == 0
    return run


def test_a_terminal_gets_a_progress_bar(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # rich's own switches for "this is an interactive terminal" (the test's output is not).
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    result = cli("sync-intraday", "--start-date", "2026-11-24", "--end-date", "2026-11-25")
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.output  # drawn in place with terminal control codes
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.output).splitlines()
    bars = [i for i, line in enumerate(lines) if "━" in line]
    assert bars, result.output
    last = bars[-1]  # the bar as it was left: complete, the figures under it
    assert lines[last].startswith("intraday_prices 5m ━")
    assert "6/6 partitions" in lines[last] and "ETA 0:00" in lines[last]
    # 3 price + 3 corporate-actions requests, and yfinance's cookie, crumb and quote when
    # this process has not fetched them yet (a test run alone; in the suite it has).
    assert re.match(r"  3/3 symbols, 466 rows, (6|9) Yahoo requests, 0 failed", lines[last + 1])
    assert any("/6 partitions" in lines[i] and "6/6" not in lines[i] for i in bars)  # moved
    assert "done: 6 partition(s) stored, 0 failed" in result.output


def test_quiet_prints_only_the_summary(cli: Cli) -> None:
    result = cli("sync-intraday", "--date", "2026-11-25", "--quiet")
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert line.startswith("done: 3 partition(s) stored, 0 failed")


def test_a_pipe_gets_plain_lines_no_bar(cli: Cli) -> None:
    result = cli("sync-intraday", "--date", "2026-11-25")
    assert result.exit_code == 0, result.output
    assert "━" not in result.output and "\x1b[" not in result.output
    live = [line for line in result.output.splitlines() if line.startswith("  live: ")]
    assert live and live[-1].startswith("  live: 3/3 partitions, 3/3 symbols")


def test_plain_lines_are_spaced_by_the_period_and_the_last_is_always_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = combine([RunProgress("r", started_at=1.0, partitions_total=4)], now=2.0)
    with ProgressView("lines", "t", line_every=3600) as view:
        view.update(running)
        view.update(running)
        assert capsys.readouterr().out == ""
        view.update(running, force_line=True)
        view.update(running, force_line=True)  # the same line is not repeated
    assert capsys.readouterr().out.count("live: 0/4 partitions") == 1


def test_the_figures_say_storing_once_everything_is_fetched() -> None:
    run = RunProgress("r", started_at=0.0, partitions_total=2, partitions_done=2, rows=9)
    assert progress_line(combine([run], now=4.0)).endswith("storing, elapsed 0:04")
    assert "ETA 0:00" in progress_line(combine([run], now=4.0, finished=True))
    assert figures(combine([run], now=4.0)) == "0/0 symbols, 9 rows, 0 Yahoo requests, 0 failed"
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "?"


def test_a_bad_line_period_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LINE_SECONDS_ENV, "often")
    with pytest.raises(click.UsageError, match="not a number of seconds"):
        line_seconds()
    monkeypatch.setenv(LINE_SECONDS_ENV, "2.5")
    assert line_seconds() == 2.5
