"""Undoing Yahoo's split adjustment with every split known at arrival."""

from datetime import date

import pandas as pd

from stock_pipeline.domain.adjustments import as_traded

SPLIT = [(date(2026, 6, 15), 4.0)]


def daily(dates: list[date], close: list[float], volume: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": dates,
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": volume,
            "dividends": [0.0] * len(dates),
        }
    )


def test_bars_before_a_split_get_their_traded_prices_and_volumes_back() -> None:
    # Yahoo after the 4:1 split: 203.09 traded on the Friday arrives as 50.7725 (float32).
    served = daily([date(2026, 6, 12), date(2026, 6, 15)], [50.77249908447266, 51.2], [400, 90])
    raw = as_traded(served, "date", SPLIT)
    assert raw["close"].tolist() == [203.09, 51.2]
    assert raw["volume"].tolist() == [100, 90]


def test_a_split_unknown_when_the_answer_arrived_changes_nothing() -> None:
    served = daily([date(2026, 6, 12)], [203.08999633789062], [100])
    assert as_traded(served, "date", [])["close"].tolist() == [203.09]  # float32 noise gone


def test_prices_keep_yahoo_s_price_hint_decimals() -> None:
    served = daily([date(2026, 6, 12)], [1.0876500606536865], [1])
    assert as_traded(served, "date", [], price_hint=4)["close"].tolist() == [1.0877]
