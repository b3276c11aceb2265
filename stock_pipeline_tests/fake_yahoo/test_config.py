"""The fake's settings: from loose command-line values, which symbols are unknown, recordings."""

from datetime import UTC, date, datetime

import pytest

from stock_pipeline.fake_yahoo.config import (
    FLAKY_SYMBOL,
    FakeYahooConfig,
    Recording,
    SplitEvent,
)


def test_settings_from_strings() -> None:
    config = FakeYahooConfig.from_settings(
        now="2026-11-25T21:30:00Z",
        unknown_symbols="gone,DEAD,",
        latency_seconds="0.5",
        flaky_failures="1",
        null_bar_every="0",
        rate_limit_per_second=None,  # not given: the default stays
    )
    assert config.now == datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
    assert config.unknown_symbols == frozenset({"GONE", "DEAD"})
    assert (config.latency_seconds, config.flaky_failures, config.null_bar_every) == (0.5, 1, 0)
    assert config.rate_limit_per_second is None
    naive = FakeYahooConfig.from_settings(now="2026-11-25T21:30:00")
    assert naive.now == datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeYahooConfig(now=datetime(2026, 11, 25, 21, 30))


def test_unknown_symbols() -> None:
    config = FakeYahooConfig(unknown_symbols=frozenset({"delisted"}))
    assert config.is_unknown("ZZNOTREAL") and config.is_unknown("Delisted")
    assert not config.is_unknown("AAPL")
    assert not config.is_unknown(FLAKY_SYMBOL)  # a special ZZ symbol Yahoo "knows"


def test_a_fixed_now_or_the_real_clock() -> None:
    fixed = FakeYahooConfig(now=datetime(2026, 11, 25, 21, 30, tzinfo=UTC))
    assert fixed.now_epoch() == datetime(2026, 11, 25, 21, 30, tzinfo=UTC).timestamp()
    real = FakeYahooConfig().now_epoch()
    assert abs(real - datetime.now(UTC).timestamp()) < 60


def test_split_ratios() -> None:
    split = SplitEvent(date(2026, 6, 15), 3, 2)
    assert (split.ratio, split.split_ratio) == (1.5, "3:2")


def test_a_recording_matches_its_query_and_runs_out() -> None:
    by_params = Recording("AAPL", b"{}", 200, "application/json", {"interval": "1m"}, 2)
    assert by_params.accepts({"interval": "1m", "range": "1d"})
    assert not by_params.accepts({"interval": "5m"})
    by_params.remaining = 0
    assert not by_params.accepts({"interval": "1m"})
    always = Recording("AAPL", b"{}", 200, "application/json", None, None)
    assert always.accepts({})
    by_function = Recording(
        "AAPL", b"{}", 400, "application/json", lambda q: q.get("range") == "5d", None
    )
    assert by_function.accepts({"range": "5d"}) and not by_function.accepts({"range": "1d"})
