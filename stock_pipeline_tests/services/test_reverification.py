"""The re-verification service directly: batches of symbols, one request per symbol,
warnings with dates and values."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from stock_pipeline.services.reverification import answer_splits, reverify
from stock_pipeline.yahoo.client import YahooClient, YahooSettings
from stock_pipeline_tests.support.pipeline import Pipeline


def test_batches_cost_one_request_per_symbol_and_say_what_differs(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    symbols = ["MSFT", "AAPL", "IBM"]
    pipeline.register(symbols)
    assert pipeline.materialize("daily_prices", "2025|MSFT", "2026|IBM").success
    pipeline.fake.config.bad_prints = {"IBM": (date(2026, 2, 3),)}  # Yahoo corrects it
    pipeline.fake.config.bad_print_factor = 0.97
    client = YahooClient(
        YahooSettings(
            base_url=pipeline.fake.url, requests_per_second=None, cache_dir=str(tmp_path / "yf")
        )
    )
    pipeline.fake.reset_counters()
    heard: list[str] = []
    found = reverify(
        client, str(pipeline.database), [*symbols, "KO"], warn=heard.append, batch_size=2
    )
    assert pipeline.price_requests() == 3  # KO has no daily bars: no request
    assert found.skipped == ["KO"] and list(found.symbols) == symbols
    assert [c.symbol for c in found.differing] == ["IBM"]
    assert found.repaired_keys == ["2026|IBM"]
    (differs, stored) = heard
    assert differs.startswith("IBM differs from Yahoo on 1 of ")
    assert "2026-02-03: open stored " in differs and ", Yahoo " in differs
    assert stored.startswith("IBM: stored again from Yahoo's answer: year(s) 2026, ")


def test_the_answer_says_which_splits_it_applied() -> None:
    answer = pd.DataFrame(
        {
            "date": [date(2026, 6, 12), date(2026, 6, 15), date(2026, 6, 16)],
            "stock_splits": [0.0, 4.0, np.nan],
        }
    )
    stored = [(date(2020, 3, 2), 2.0), (date(2026, 6, 15), 3.0), (date(2027, 1, 4), 5.0)]
    # In its dates, Yahoo's word: its 4:1 wins, the 2020 split it does not list is not
    # applied; after them, the stored split it could not list.
    assert answer_splits(answer, stored) == [(date(2026, 6, 15), 4.0), (date(2027, 1, 4), 5.0)]
