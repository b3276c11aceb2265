"""Pictures and tables of price bars: pure rendering, no Dagster, no DuckDB.

A frame of bars (the warehouse's columns: ``open high low close volume`` and a time column,
``ts`` for intraday bars in UTC or ``date`` for daily ones) becomes a table of the last
bars, a small PNG line chart for the Dagster UI's metadata, or a candlestick PNG for
``stock-pipeline chart``. matplotlib (Agg backend, never a display) is imported on first use:
importing it costs a process about a second (several on a busy machine), which runs that
draw no chart never pay.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from stock_pipeline.domain.trading_calendar import NEW_YORK

PREVIEW_BARS = 5
PRICE_COLUMNS = ("open", "high", "low", "close")
_LINE = "#4f43dd"


def local_times(frame: pd.DataFrame, time_col: str) -> pd.Series:
    """Bar times as people read them: New York wall clock for intraday, dates for daily."""
    times = pd.to_datetime(frame[time_col])
    if times.dt.tz is not None:
        return times.dt.tz_convert(NEW_YORK).dt.tz_localize(None)
    return times


def last_bars(
    frame: pd.DataFrame, time_col: str, count: int = PREVIEW_BARS, by: Sequence[str] = ()
) -> pd.DataFrame:
    """The last ``count`` bars (of each group of the ``by`` columns) for display: the ``by``
    columns, New York time (or date), OHLC to the cent, volume. Vectorised: a run's 500
    partitions cost one pass, not 500."""
    intraday = time_col == "ts"
    ordered = frame.sort_values([*by, time_col])
    tail = ordered.groupby(list(by), sort=False).tail(count) if by else ordered.tail(count)
    shown = pd.DataFrame({col: tail[col].to_numpy() for col in by})
    label = "time (New York)" if intraday else "date"
    # An intraday partition is one session: the time of day says it all.
    stamps = local_times(tail, time_col).dt.strftime("%H:%M" if intraday else "%Y-%m-%d")
    shown[label] = stamps.to_numpy()
    for col in PRICE_COLUMNS:
        shown[col] = tail[col].round(2).to_numpy()
    shown["volume"] = tail["volume"].fillna(0).astype("int64").to_numpy()
    return shown


def markdown_image(png: bytes, alt: str) -> str:
    """An image embedded in Markdown as a data URI: no file server needed to show it."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def _agg_figure(width: float, height: float, dpi: int) -> Any:
    """A matplotlib Figure drawn by Agg; pyplot (and its global state) is never touched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any, dpi: int, colors: int | None = None, tight: bool = False) -> bytes:
    """PNG bytes; with ``colors``, reduced to that many palette colours (a quarter the size)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    if colors is None:
        return buffer.getvalue()
    from PIL import Image

    buffer.seek(0)
    with Image.open(buffer) as image:
        reduced = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    reduced.save(out, format="PNG", optimize=True)
    return out.getvalue()


def price_chart_png(frame: pd.DataFrame, time_col: str, title: str, dpi: int = 80) -> bytes:
    """A small chart of closes inside each bar's high–low range (about 5 KB).

    Bars are drawn at their position (not their time) so the overnight gaps between
    sessions do not flatten a multi-day chart.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if frame.empty:
        raise ValueError("no bars to chart")
    ordered = frame.sort_values(time_col)
    times = list(local_times(ordered, time_col))
    intraday = time_col == "ts"
    positions = range(len(ordered))
    figure = _agg_figure(6.0, 2.2, dpi)
    axes = figure.add_axes((0.08, 0.15, 0.86, 0.74))  # room for the last time label
    axes.fill_between(positions, ordered["low"], ordered["high"], color=_LINE, alpha=0.15, lw=0)
    axes.plot(positions, ordered["close"], color=_LINE, lw=1.3)
    axes.set_xlim(0, max(len(ordered) - 1, 1))
    axes.set_title(title, fontsize=9, loc="left")
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.25, lw=0.5)

    def tick_label(value: float, _pos: int) -> str:
        i = round(value)
        if not 0 <= i < len(times):
            return ""
        return times[i].strftime("%m-%d %H:%M" if intraday else "%Y-%m-%d")

    axes.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(tick_label))
    return _png(figure, dpi, colors=32)


def candlestick_png(
    frame: pd.DataFrame,
    time_col: str,
    title: str,
    width: float = 10.0,
    height: float = 5.5,
    dpi: int = 80,
    colors: int | None = None,
) -> bytes:
    """A candlestick chart with volume, New York time on the axis (mplfinance)."""
    import matplotlib

    matplotlib.use("Agg")
    import mplfinance as mpf
    from matplotlib.ticker import MaxNLocator

    if frame.empty:
        raise ValueError("no bars to chart")
    ordered = frame.sort_values(time_col)
    ohlcv = pd.DataFrame(
        {
            "Open": ordered["open"].to_numpy(),
            "High": ordered["high"].to_numpy(),
            "Low": ordered["low"].to_numpy(),
            "Close": ordered["close"].to_numpy(),
            "Volume": ordered["volume"].fillna(0).to_numpy(),
        },
        index=pd.DatetimeIndex(local_times(ordered, time_col)),
    )
    figure, axes = mpf.plot(
        ohlcv,
        type="candle",
        volume=True,
        # yahoo's colours; its "semibold" weights are missing from the bundled fonts.
        style=mpf.make_mpf_style(
            base_mpf_style="yahoo",
            rc={"axes.titleweight": "bold", "axes.labelweight": "normal"},
        ),
        axtitle=title,
        figsize=(width, height),
        datetime_format="%m-%d %H:%M" if time_col == "ts" else "%Y-%m-%d",
        xrotation=0,
        returnfig=True,
        warn_too_much_data=len(ohlcv) + 1,
    )
    try:
        # Bars sit at integer positions (no overnight gaps); six labels never overlap.
        axes[0].xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        return _png(figure, dpi, colors=colors, tight=True)
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)


def chart_title(symbol: str, interval: str, times: Sequence[pd.Timestamp], bars: int) -> str:
    """``AAPL · 5m · 2026-11-20 … 2026-11-25 · 390 bars`` (dates in New York)."""
    first, last = min(times), max(times)
    span = (
        f"{first:%Y-%m-%d}"
        if first.date() == last.date()
        else f"{first:%Y-%m-%d} … {last:%Y-%m-%d}"
    )
    return f"{symbol} · {interval} · {span} · {bars} bars"
