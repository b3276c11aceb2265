"""A sync piped to a file or a log (not a terminal) says how far it is while it runs.

The command runs in a process of its own, its stdout a pipe, against the fake Yahoo
answering slowly; each line is timed as it arrives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from stock_pipeline.cli import main
from stock_pipeline.cli.progress_view import LINE_SECONDS_ENV
from stock_pipeline.fake_yahoo import FakeYahoo

pytestmark = pytest.mark.integration

SYMBOLS = [f"S{chr(65 + i)}{chr(65 + i)}" for i in range(12)]  # SAA, SBB, …
LIVE = re.compile(
    r"^  live: (\d+)/(\d+) partitions, (\d+)/(\d+) symbols, ([\d,]+) rows, (\d+) Yahoo requests, "
    r"(\d+) failed, limit 2 req/s, .*(ETA [\d:?]+|storing), elapsed"
)
DONE = re.compile(r"^done: (\d+) partition\(s\) stored, 0 failed, (\d+) rows, (\d+) Yahoo requests")


@pytest.mark.fake_yahoo(latency_seconds=0.3)
def test_a_piped_sync_prints_its_plan_at_once_and_progress_lines_before_it_ends(
    fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    monkeypatch.setenv(LINE_SECONDS_ENV, "1")
    added = CliRunner().invoke(main, ["symbols", "add", "--no-verify", ",".join(SYMBOLS)])
    assert added.exit_code == 0, added.output
    command = Path(sys.executable).parent / "stock-pipeline"
    errors = isolated_paths / "stderr.log"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [str(command), "sync-intraday", "--date", "2026-11-25", "--delay", "0.5"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(os.environ),
            text=True,
        )
        assert process.stdout is not None
        lines = [(time.monotonic(), line.rstrip("\n")) for line in process.stdout]
        assert process.wait(timeout=60) == 0, errors.read_text()[-3000:]
    text = [line for _, line in lines]
    assert text[0].startswith("intraday_prices at 5m: 12 partition(s) to fetch"), text
    (ended,) = [at for at, line in lines if line.startswith("  SUCCESS ")]
    done_at, summary = next((at, DONE.match(line)) for at, line in lines if DONE.match(line))
    assert summary is not None
    # The plan came out when it was made, not with everything else at exit.
    assert done_at - lines[0][0] > 3.0
    live = [(at, LIVE.match(line)) for at, line in lines if line.startswith("  live: ")]
    assert all(match for _, match in live), text
    during = [(at, m) for at, m in live if m and at < ended and int(m[1]) < int(m[2])]
    assert during, text  # at least one line while the run was still fetching
    for _, m in during:
        assert int(m[2]) == 12 and int(m[4]) == 12 and m[8].startswith("ETA")
    last = live[-1][1]
    assert last is not None
    stored, rows, requests = summary.groups()
    assert (last[1], last[3], last[7]) == ("12", "12", "0")
    assert int(last[5].replace(",", "")) == int(rows) > 0
    assert last[6] == requests and stored == "12"
