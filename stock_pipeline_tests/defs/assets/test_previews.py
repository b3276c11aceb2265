"""What the UI shows of stored bars: preview tables on every partition, charts on small runs."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.defs.assets import outcomes, previews
from stock_pipeline.defs.assets.previews import (
    CHARTED_RUN_MAX_PARTITIONS,
    bar_previews,
    frame_table,
)
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.pipeline import Pipeline

DAYS = [date(2026, 11, 23), date(2026, 11, 24)]
DATA_URI = "data:image/png;base64,"


def two_by_two() -> pd.DataFrame:
    return pd.concat(
        [bars(s, d, price=p) for s, p in (("AAPL", 100.0), ("MSFT", 400.0)) for d in DAYS],
        ignore_index=True,
    )


def values(meta: dg.TableMetadataValue) -> list[dict[str, Any]]:
    return [dict(record.data) for record in meta.records]


def test_small_runs_get_a_preview_table_and_a_chart_per_partition() -> None:
    keys = [intraday_key(s, d) for s in ("AAPL", "MSFT") for d in DAYS]
    shown = bar_previews(INTRADAY_PRICES, two_by_two(), keys, "5m")
    assert sorted(shown) == sorted(keys)
    msft = shown["2026-11-24|MSFT"]
    table = msft["last_bars"]
    assert isinstance(table, dg.TableMetadataValue)
    rows = values(table)
    assert len(rows) == 5
    assert rows[-1] == {
        "time (New York)": "15:55",
        "open": 400.0,
        "high": 401.0,
        "low": 399.0,
        "close": 400.5,
        "volume": 1000,
    }
    chart = msft["chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    assert chart.md_str.startswith(f"![MSFT · 5m · 2026-11-24 · 78 bars]({DATA_URI}")


def test_large_runs_draw_no_chart_but_say_how_to(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> bytes:
        raise AssertionError("a large run must not draw charts")

    monkeypatch.setattr(previews, "price_chart_png", refuse)
    keys = [f"2026-11-24|S{i}" for i in range(CHARTED_RUN_MAX_PARTITIONS)] + [
        intraday_key("AAPL", d) for d in DAYS
    ]
    shown = bar_previews(INTRADAY_PRICES, two_by_two(), keys, "5m")
    assert sorted(shown) == ["2026-11-23|AAPL", "2026-11-24|AAPL"]  # only keys with rows
    note = shown["2026-11-24|AAPL"]["chart"]
    assert isinstance(note, dg.TextMetadataValue)
    assert "not drawn" in note.text
    assert "stock-pipeline chart AAPL --interval 5m --end 2026-11-24 --days 1" in note.text
    assert len(values(shown["2026-11-24|AAPL"]["last_bars"])) == 5


def test_a_chart_that_cannot_be_drawn_never_costs_the_bars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(previews, "price_chart_png", broken)
    shown = bar_previews(INTRADAY_PRICES, two_by_two(), ["2026-11-23|AAPL"], "5m")
    note = shown["2026-11-23|AAPL"]["chart"]
    assert isinstance(note, dg.TextMetadataValue)
    assert note.text == "could not draw the chart: RuntimeError: no fonts"


def test_daily_previews_are_keyed_by_year() -> None:
    frame = pd.DataFrame(
        {
            "symbol": "AAPL",
            "interval": "1d",
            "date": [date(2025, 12, 31), date(2026, 1, 2)],
            "year": [2025, 2026],
            "open": [1.0, 2.0],
            "high": [1.5, 2.5],
            "low": [0.5, 1.5],
            "close": [1.25, 2.25],
            "volume": [10, 20],
        }
    )
    shown = bar_previews(DAILY_PRICES, frame, ["2025|AAPL", "2026|AAPL"], "1d")
    assert values(shown["2026|AAPL"]["last_bars"])[0]["date"] == "2026-01-02"
    assert "AAPL · 1d · 2025-12-31 · 1 bars" in shown["2025|AAPL"]["chart"].value


def test_frame_table_keeps_types_and_blanks() -> None:
    table = frame_table(
        pd.DataFrame({"symbol": ["A", "B"], "price": [1.23456, None], "n": [1, 2]}), limit=1
    )
    assert [(c.name, c.type) for c in table.schema.columns] == [
        ("symbol", "string"),
        ("price", "float"),
        ("n", "int"),
    ]
    assert values(table) == [{"symbol": "A", "price": 1.2346, "n": 1}]


def _metadata(pipeline: Pipeline, result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Per partition, the metadata of the run's materializations as the instance stored them
    (the ones logged beside a failure included)."""
    found = {}
    for record in pipeline.instance.all_logs(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ):
        assert record.dagster_event is not None
        mat = record.dagster_event.step_materialization_data.materialization
        found[str(mat.partition)] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return found


def test_every_stored_partition_carries_its_numbers_preview_and_chart(
    pipeline: Pipeline,
) -> None:
    pipeline.register(["AAPL"])
    result = pipeline.materialize("intraday_prices", "2026-11-23|AAPL", "2026-11-24|AAPL")
    assert result.success
    meta = _metadata(pipeline, result)
    assert sorted(meta) == ["2026-11-23|AAPL", "2026-11-24|AAPL"]
    stored = pipeline.query(
        "SELECT session_date, count(*) AS n, arg_max(close, ts) AS last_close "
        "FROM intraday_prices GROUP BY ALL ORDER BY session_date"
    )
    for (key, entry), row in zip(sorted(meta.items()), stored.itertuples(), strict=True):
        assert entry["rows"] == row.n
        assert entry["bars_expected"] == 78
        assert entry["interval"] == "5m" and entry["final"] is True
        assert entry["first_bar"] < entry["last_bar"]
        assert entry["yahoo_requests"] == 1
        assert entry["last_bars"].records[-1].data["close"] == round(row.last_close, 2)
        assert entry["chart"].startswith(f"![AAPL · 5m · {key[:10]}")


def test_partitions_stored_beside_a_failure_carry_previews_too(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "ZZBOGUS"])
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", "2026-11-24|ZZBOGUS")
    assert not result.success
    meta = _metadata(pipeline, result)
    assert list(meta) == ["2026-11-24|AAPL"]
    assert len(meta["2026-11-24|AAPL"]["last_bars"].records) == 5
    assert DATA_URI in meta["2026-11-24|AAPL"]["chart"]


def test_reference_assets_show_what_they_stored(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "MSFT"])
    stocks = pipeline.materialize("stocks", "AAPL", "MSFT")
    assert stocks.success
    profiles = _metadata(pipeline, stocks)
    assert sorted(profiles) == ["AAPL", "MSFT"]
    assert [r.data["symbol"] for r in profiles["MSFT"]["profile"].records] == ["MSFT"]
    quotes = pipeline.materialize("current_prices")
    assert quotes.success
    (preview,) = (m["preview"] for m in _metadata(pipeline, quotes).values())
    assert [r.data["symbol"] for r in preview.records] == ["AAPL", "MSFT"]
    assert isinstance(preview.records[0].data["price"], float)


def test_partition_numbers_also_land_through_dagster_s_public_call(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback for a Dagster without the accumulator ``add_partition_metadata`` uses."""
    monkeypatch.setattr(outcomes, "add_partition_metadata_at_once", lambda *_: False)
    pipeline.register(["AAPL", "MSFT"])
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", "2026-11-24|MSFT")
    assert result.success
    meta = _metadata(pipeline, result)
    assert sorted(meta) == ["2026-11-24|AAPL", "2026-11-24|MSFT"]
    assert [entry["rows"] for _, entry in sorted(meta.items())] == [78, 78]
