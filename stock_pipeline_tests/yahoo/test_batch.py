"""Batch fetching against the fake Yahoo: requests per batch, per-partition outcomes."""

from datetime import date
from pathlib import Path

from stock_pipeline.domain.partition_keys import SymbolDay, SymbolYear
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.yahoo.batch import fetch_history, fetch_intraday
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

DAYS = (date(2026, 11, 23), date(2026, 11, 24))


def make_client(fake: FakeYahoo, tmp_path: Path) -> YahooClient:
    return YahooClient(
        YahooSettings(base_url=fake.url, requests_per_second=None, cache_dir=str(tmp_path))
    )


def test_a_cold_intraday_batch_asks_timezones_in_one_quote_not_one_probe_each(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    symbols = ["FBIA", "FBIB", "FBIC", "FBID"]
    result = fetch_intraday(
        make_client(fake_yahoo, tmp_path),
        [SymbolDay(s, d) for s in symbols for d in DAYS],
        "5m",
    )
    assert not result.failed and len(result.outcomes) == 8
    assert result.requests["quote"] == 1 and result.requests["timezone"] == 0
    assert result.requests["chart"] == 4  # one window per symbol
    assert fake_yahoo.requests["timezone"] == 0


def test_one_unknown_symbol_still_fails_alone_after_the_timezone_quote(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    result = fetch_history(
        make_client(fake_yahoo, tmp_path),
        [SymbolYear(s, 2025) for s in ("FBHA", "FBHB", "ZZNOSUCH")],
        "1d",
    )
    assert sorted(result.succeeded) == ["2025|FBHA", "2025|FBHB"]
    assert "ZZNOSUCH" in result.failed["2025|ZZNOSUCH"]
    assert result.requests["quote"] == 1
