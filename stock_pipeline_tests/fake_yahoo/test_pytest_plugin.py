"""The pytest plugin: the fixed test clock, settings by marker, recordings, a shared server."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.fake_yahoo.pytest_plugin import DEFAULT_TEST_NOW, load_yahoo_recording


def test_the_fake_answers_at_the_fixed_test_clock(fake_yahoo: FakeYahoo) -> None:
    assert fake_yahoo.config.now == DEFAULT_TEST_NOW
    assert fake_yahoo.config.latency_seconds == 0.0


@pytest.mark.fake_yahoo(now=datetime(2026, 11, 27, 22, 0, tzinfo=UTC), null_bar_every=0)
def test_a_marker_sets_the_fake_s_settings(fake_yahoo: FakeYahoo) -> None:
    assert fake_yahoo.config.now == datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert fake_yahoo.config.null_bar_every == 0


def test_recordings_load_with_or_without_the_suffix(yahoo_recordings_dir: Path) -> None:
    name = "chart_AAPL_1m_2024-10-02_regular"
    assert (yahoo_recordings_dir / f"{name}.json").exists()
    recorded = load_yahoo_recording(name)
    assert recorded == load_yahoo_recording(f"{name}.json")
    assert recorded["chart"]["result"][0]["meta"]["symbol"] == "AAPL"


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_finds_the_shared_server_clean_and_may_dirty_it(
    shared_fake_yahoo: FakeYahoo, turn: int
) -> None:
    """Whichever turn runs second in a process sees the first one's log and recording gone."""
    assert shared_fake_yahoo.log == []
    answer = requests.get(
        f"{shared_fake_yahoo.url}/v8/finance/chart/AAPL",
        params={"range": "1d", "interval": "5m"},
        timeout=30,
    )
    assert answer.json()["chart"]["result"] != []  # generated data, no recording left over
    shared_fake_yahoo.add_recording("AAPL", {"chart": {"result": [], "error": None}})
    assert len(shared_fake_yahoo.log) == 1
