"""Counter-based randomness: the same values in every process."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline_tests.support.fake_yahoo_http import (
    get,
    ny,
)


def test_values_do_not_depend_on_the_process(fake_yahoo: FakeYahoo) -> None:
    """Seeds come from a stable hash, not ``hash()``: another process gets the same bars."""
    params = {
        "period1": ny(date(2026, 11, 20)),
        "period2": ny(date(2026, 11, 21)),
        "interval": "5m",
    }
    here = get(fake_yahoo, "/v8/finance/chart/XOM", **params).content
    code = (
        "import requests,sys\n"
        "from stock_pipeline.fake_yahoo import FakeYahoo, FakeYahooConfig\n"
        "from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW\n"
        "with FakeYahoo(FakeYahooConfig(now=DEFAULT_TEST_NOW)) as f:\n"
        f"    r = requests.get(f.url + '/v8/finance/chart/XOM', params={params!r})\n"
        "    sys.stdout.buffer.write(r.content)\n"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert there == here
