"""Pytest fixtures for the fake Yahoo server (load with ``pytest_plugins``).

- ``fake_yahoo``: a fresh server per test, configured by ``fake_yahoo_config``.
- ``fake_yahoo_config``: ``FakeYahooConfig(now=DEFAULT_TEST_NOW)`` plus the keyword
  arguments of a ``@pytest.mark.fake_yahoo(...)`` marker; override the fixture for more.
- ``shared_fake_yahoo``: one server for the whole session (same default clock); its
  counters are reset before each test that uses it; do not change its config.
- ``yahoo_recordings_dir`` / ``load_yahoo_recording(name)``: the recorded real answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stock_pipeline.fake_yahoo.config import DEFAULT_TEST_NOW, FakeYahooConfig
from stock_pipeline.fake_yahoo.server import FakeYahoo

RECORDINGS_DIR = Path(__file__).resolve().parents[2] / "stock_pipeline_tests" / "fixtures" / "yahoo"


def load_yahoo_recording(name: str) -> Any:
    """A recorded Yahoo body from the test fixtures, parsed (``name`` with or without .json)."""
    path = RECORDINGS_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake_yahoo(**settings): FakeYahooConfig fields for the fake_yahoo fixture"
    )


@pytest.fixture
def fake_yahoo_config(request: pytest.FixtureRequest) -> FakeYahooConfig:
    settings: dict[str, Any] = {"now": DEFAULT_TEST_NOW}
    marker = request.node.get_closest_marker("fake_yahoo")
    if marker is not None:
        settings.update(marker.kwargs)
    return FakeYahooConfig(**settings)


@pytest.fixture
def fake_yahoo(fake_yahoo_config: FakeYahooConfig) -> Iterator[FakeYahoo]:
    with FakeYahoo(fake_yahoo_config) as fake:
        yield fake


@pytest.fixture(scope="session")
def _shared_fake_yahoo_server() -> Iterator[FakeYahoo]:
    with FakeYahoo(FakeYahooConfig(now=DEFAULT_TEST_NOW)) as fake:
        yield fake


@pytest.fixture
def shared_fake_yahoo(_shared_fake_yahoo_server: FakeYahoo) -> FakeYahoo:
    _shared_fake_yahoo_server.reset_counters()
    _shared_fake_yahoo_server.clear_recordings()
    return _shared_fake_yahoo_server


@pytest.fixture
def yahoo_recordings_dir() -> Path:
    return RECORDINGS_DIR
