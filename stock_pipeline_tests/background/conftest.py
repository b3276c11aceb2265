"""Fixtures for background-sync tests: a test instance with symbols, the fake Yahoo wired in."""

from __future__ import annotations

import dagster as dg
import pytest

from stock_pipeline.fake_yahoo import FakeYahoo


@pytest.fixture
def instance_with_symbols(
    instance: dg.DagsterInstance, fake_yahoo: FakeYahoo, monkeypatch: pytest.MonkeyPatch
) -> dg.DagsterInstance:
    """AAPL, MSFT and ZZGONE (unknown to Yahoo) registered; runs fetch from the fake Yahoo."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.delenv("STOCK_PIPELINE_EAGER", raising=False)
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "ZZGONE"])
    return instance
