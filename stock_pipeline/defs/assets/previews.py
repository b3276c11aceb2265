"""What the Dagster UI shows of the stored bars: a table of the last bars and a small chart.

Every stored partition gets the preview table (built in one pass: about 0.1 s for 500).
Charts cost about 0.1 s each, plus one to three seconds to import matplotlib in the run's
process, so only runs of at most ``CHARTED_RUN_MAX_PARTITIONS`` partitions draw them: a
manual materialization, a UI backfill of a few symbols, a schedule over a short watch-list.
A scheduled run over hundreds of symbols draws none and stays as fast as a bare yfinance
loop; each of its partitions says how to draw its chart (``stock-pipeline chart``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from stock_pipeline.domain.partition_keys import history_key, intraday_key, split_key
from stock_pipeline.reporting.charts import (
    PREVIEW_BARS,
    chart_title,
    last_bars,
    local_times,
    markdown_image,
    price_chart_png,
)
from stock_pipeline.warehouse.tables import DAILY_PRICES, INTRADAY_PRICES, Table

CHARTED_RUN_MAX_PARTITIONS = 12
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Layout:
    time_col: str
    slice_cols: tuple[str, str]  # (symbol, day or year): one partition's rows
    key: Callable[[Any, Any], str]  # partition key from the slice values


_LAYOUTS = {
    INTRADAY_PRICES.name: _Layout(
        "ts", ("symbol", "session_date"), lambda symbol, day: intraday_key(symbol, day)
    ),
    DAILY_PRICES.name: _Layout("date", ("symbol", "year"), lambda s, y: history_key(s, int(y))),
}


def _chart_command(key: str, interval: str, time_col: str) -> str:
    """The command drawing one partition's bars: its session, or its year."""
    when, symbol = split_key(key)
    window = f"--end {when} --days 1" if time_col == "ts" else f"--end {when}-12-31 --days 366"
    return f"stock-pipeline chart {symbol} --interval {interval} {window} --out {symbol}.png"


def _chart(symbol: str, interval: str, rows: pd.DataFrame, time_col: str) -> dg.MetadataValue:
    """The chart as Markdown; a picture must never cost the bars, so a drawing failure is
    logged and shown in its place."""
    title = chart_title(symbol, interval, list(local_times(rows, time_col)), len(rows))
    try:
        png = price_chart_png(rows, time_col, title)
    except Exception as exc:
        log.warning("chart of %s not drawn: %s", title, exc, exc_info=True)
        return dg.MetadataValue.text(f"could not draw the chart: {type(exc).__name__}: {exc}")
    return dg.MetadataValue.md(markdown_image(png, title))


def bar_previews(
    table: Table, frame: pd.DataFrame, keys: Collection[str], interval: str
) -> dict[str, dict[str, dg.MetadataValue]]:
    """Per partition key: ``last_bars`` (table) and ``chart`` (Markdown image or how to draw it).

    ``keys`` are the run's stored partitions; the chart rule counts them.
    """
    layout = _LAYOUTS.get(table.name)
    if layout is None or frame.empty:
        return {}
    wanted = set(keys)
    shown = last_bars(frame, layout.time_col, PREVIEW_BARS, by=layout.slice_cols)
    symbol_col, when_col = layout.slice_cols
    partition = [layout.key(s, w) for s, w in zip(shown[symbol_col], shown[when_col], strict=True)]
    tables = frame_tables(shown.drop(columns=list(layout.slice_cols)), partition)
    previews: dict[str, dict[str, dg.MetadataValue]] = {
        key: {"last_bars": t} for key, t in tables.items() if key in wanted
    }
    if len(keys) > CHARTED_RUN_MAX_PARTITIONS:
        for key, meta in previews.items():
            command = _chart_command(key, interval, layout.time_col)
            meta["chart"] = dg.MetadataValue.text(
                f"not drawn: runs of more than {CHARTED_RUN_MAX_PARTITIONS} partitions draw no "
                f"charts (this run stored {len(keys)}); draw it with `{command}`"
            )
        return previews
    for (symbol, when), rows in frame.groupby(list(layout.slice_cols), sort=True):
        key = layout.key(symbol, when)
        if key in previews:
            previews[key]["chart"] = _chart(str(symbol), interval, rows, layout.time_col)
    return previews


def _column_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    return "string"


def _cell(value: Any, kind: str) -> str | int | float | bool | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return round(float(value), 4)
    if kind == "bool":
        return bool(value)
    return str(value)


def _schema(frame: pd.DataFrame) -> tuple[dict[str, str], dg.TableSchema]:
    kinds = {str(c): _column_type(frame[c]) for c in frame.columns}
    return kinds, dg.TableSchema(columns=[dg.TableColumn(c, k) for c, k in kinds.items()])


def _record(row: tuple[Any, ...], kinds: dict[str, str]) -> dg.TableRecord:
    return dg.TableRecord({c: _cell(v, k) for (c, k), v in zip(kinds.items(), row, strict=True)})


def frame_tables(frame: pd.DataFrame, groups: Sequence[str]) -> dict[str, dg.TableMetadataValue]:
    """One typed table per group label (``groups`` gives each row's label), one schema."""
    kinds, schema = _schema(frame)
    records: dict[str, list[dg.TableRecord]] = {}
    for group, row in zip(groups, frame.itertuples(index=False, name=None), strict=True):
        records.setdefault(group, []).append(_record(row, kinds))
    return {g: dg.MetadataValue.table(r, schema=schema) for g, r in records.items()}


def frame_table(frame: pd.DataFrame, limit: int = 10) -> dg.TableMetadataValue:
    """The first ``limit`` rows of a frame as a typed table (reference data previews)."""
    head = frame.head(limit)
    kinds, schema = _schema(head)
    rows = [_record(row, kinds) for row in head.itertuples(index=False, name=None)]
    return dg.MetadataValue.table(rows, schema=schema)
