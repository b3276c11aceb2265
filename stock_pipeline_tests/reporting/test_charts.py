"""Rendering bars: the preview table in New York time, small PNG charts, Markdown images."""

from __future__ import annotations

import base64
import io
from datetime import date

import pandas as pd
import pytest
from PIL import Image

from stock_pipeline.reporting.charts import (
    candlestick_png,
    chart_title,
    last_bars,
    local_times,
    markdown_image,
    price_chart_png,
)
from stock_pipeline_tests.support.frames import bars

DAY = date(2026, 11, 24)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def rising(symbol: str = "AAPL", day: date = DAY) -> pd.DataFrame:
    frame = bars(symbol, day)
    frame["close"] = 100.0 + frame.index * 0.125
    frame["high"] = frame["close"] + 1
    frame["low"] = frame["close"] - 1
    return frame


def test_last_bars_are_the_latest_in_new_york_time_rounded_to_the_cent() -> None:
    shown = last_bars(rising(), "ts", count=3)
    times = ["15:45", "15:50", "15:55"]
    assert list(shown["time (New York)"]) == times
    assert list(shown["close"]) == [round(100 + 75 * 0.125, 2), 109.5, round(100 + 77 * 0.125, 2)]
    assert list(shown.columns) == ["time (New York)", "open", "high", "low", "close", "volume"]
    assert shown["volume"].dtype == "int64"


def test_daily_bars_show_dates() -> None:
    frame = pd.DataFrame(
        {
            "date": [date(2026, 11, 23), date(2026, 11, 24)],
            "open": [1.0, 2.0],
            "high": [1.5, 2.5],
            "low": [0.5, 1.5],
            "close": [1.2, 2.2],
            "volume": [10, None],
        }
    )
    shown = last_bars(frame, "date")
    assert list(shown["date"]) == ["2026-11-23", "2026-11-24"]
    assert list(shown["volume"]) == [10, 0]


def test_price_chart_is_a_small_png_of_fixed_size() -> None:
    png = price_chart_png(rising(), "ts", "AAPL · 5m")
    assert png.startswith(PNG_MAGIC)
    assert len(png) < 12_000  # a few KB each: metadata of many partitions stays small
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (480, 176)  # 6 × 2.2 inches at 80 dpi


def test_charting_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no bars"):
        price_chart_png(rising().iloc[0:0], "ts", "empty")


def test_markdown_image_embeds_the_png_itself() -> None:
    text = markdown_image(b"\x89PNG-bytes", "AAPL chart")
    assert text.startswith("![AAPL chart](data:image/png;base64,")
    assert base64.b64decode(text.split(",", 1)[1].rstrip(")")) == b"\x89PNG-bytes"


def test_candlestick_chart_of_several_sessions() -> None:
    frame = pd.concat([rising(day=DAY), rising(day=date(2026, 11, 25))], ignore_index=True)
    png = candlestick_png(frame, "ts", "AAPL · 5m")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_chart_title_names_the_span_in_new_york_dates() -> None:
    frame = pd.concat([rising(day=DAY), rising(day=date(2026, 11, 25))], ignore_index=True)
    times = list(local_times(frame, "ts"))
    assert chart_title("AAPL", "5m", times, 156) == "AAPL · 5m · 2026-11-24 … 2026-11-25 · 156 bars"
    assert chart_title("AAPL", "5m", times[:78], 78) == "AAPL · 5m · 2026-11-24 · 78 bars"
