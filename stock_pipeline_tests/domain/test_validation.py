"""Bar sanity rules: each rule counts its rows; clean bars pass."""

import numpy as np
import pandas as pd
import pytest

from stock_pipeline.domain.validation import ohlc_violations


def bars(n: int = 6, symbols: tuple[str, ...] = ("AAPL",)) -> pd.DataFrame:
    ts = pd.date_range("2026-11-24 14:30", periods=n, freq="5min", tz="UTC")
    frames = [
        pd.DataFrame(
            {
                "symbol": pd.array([s] * n, dtype="string"),
                "interval": pd.array(["5m"] * n, dtype="string"),
                "ts": ts,
                "open": np.full(n, 100.0),
                "high": np.full(n, 101.0),
                "low": np.full(n, 99.0),
                "close": np.full(n, 100.5),
                "volume": np.full(n, 1000, dtype="int64"),
            }
        )
        for s in symbols
    ]
    return pd.concat(frames, ignore_index=True)


def found(frame: pd.DataFrame, key: str = "ts") -> dict[str, int]:
    return {v.rule: v.rows for v in ohlc_violations(frame, key=key)}


def test_clean_bars_of_several_symbols_pass() -> None:
    assert found(bars(symbols=("AAPL", "MSFT"))) == {}
    assert found(bars().iloc[0:0]) == {}


def test_each_rule_counts_its_rows() -> None:
    frame = bars(8)
    frame.loc[0, "open"] = np.nan
    frame.loc[1, "low"] = -1.0  # still below open and close: only non-positive
    frame.loc[2, "low"] = 100.8  # above open and close
    frame.loc[3, "high"] = 99.5  # below open and close
    frame.loc[4, "volume"] = -5
    assert found(frame) == {
        "nan_price": 1,
        "non_positive_price": 1,
        "ohlc_order": 2,
        "negative_volume": 1,
    }


def test_a_price_equal_to_its_bound_within_rounding_is_not_out_of_order() -> None:
    frame = bars(2)
    frame.loc[0, "high"] = 100.5 - 1e-12  # close 100.5: float noise, not corruption
    assert found(frame) == {}


def test_nullable_columns_with_missing_values_are_counted_not_raised() -> None:
    frame = bars(3).astype({"open": "Float64", "volume": "Int64"})
    frame.loc[1, "open"] = pd.NA
    frame.loc[2, "volume"] = pd.NA
    assert found(frame) == {"nan_price": 1}


@pytest.mark.parametrize("symbols", [("AAPL",), ("AAPL", "MSFT")])
def test_duplicates_are_per_symbol_and_bar(symbols: tuple[str, ...]) -> None:
    frame = bars(4, symbols)
    assert found(frame) == {}  # the same timestamps under two symbols are not duplicates
    twice = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    assert found(twice) == {"duplicate_bar": 1}


def test_daily_bars_are_keyed_by_date() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-23", "2026-11-24", "2026-11-24"]).date,
            "open": [1.0, 1.0, 1.0],
            "high": [2.0, 2.0, 2.0],
            "low": [0.5, 0.5, 0.5],
            "close": [1.5, 1.5, 1.5],
            "volume": [10, 10, 10],
        }
    )
    assert found(frame, key="date") == {"duplicate_bar": 1}
