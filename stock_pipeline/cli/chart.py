"""chart: a candlestick PNG of a symbol's stored bars, read from DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from stock_pipeline import settings
from stock_pipeline.cli.common import fail, guarded, parse_date
from stock_pipeline.domain.chart_window import DEFAULT_DAYS, DEFAULT_SESSIONS
from stock_pipeline.domain.symbols import normalize_symbol


@click.command()
@click.argument("symbol")
@click.option("--interval", default="5m", show_default=True, help="1m … 90m (intraday), 1d or 1wk.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help=f"Intraday: the last N trading sessions (default {DEFAULT_SESSIONS}); "
    f"1d/1wk: the last N calendar days (default {DEFAULT_DAYS}).",
)
@click.option(
    "--end",
    callback=parse_date,
    help="Last day of the window, YYYY-MM-DD (default: the latest session, or today).",
)
@click.option(
    "--out",
    "out_text",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="PNG file to write.",
)
@guarded
def chart(symbol: str, interval: str, days: int | None, end: date | None, out_text: str) -> None:
    """Draw SYMBOL's stored bars as a candlestick chart with volume (New York time).

    Only reads the warehouse: nothing is fetched. Exit code 2 when nothing is stored for
    the symbol, interval and days, with what is stored instead.
    """
    if not out_text.strip():
        fail("--out is empty: give the PNG file to write, e.g. --out AAPL.png")
    out = Path(out_text)
    from stock_pipeline.reporting.charts import candlestick_png, chart_title, local_times
    from stock_pipeline.warehouse.lake import Lake
    from stock_pipeline.warehouse.stored_bars import load_stored_bars

    bars = load_stored_bars(
        Lake.from_settings(), normalize_symbol(symbol), interval, days, settings.now(), end
    )
    title = chart_title(
        bars.symbol, bars.interval, list(local_times(bars.frame, bars.time_col)), len(bars.frame)
    )
    png = candlestick_png(bars.frame, bars.time_col, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(png)
    except OSError as exc:
        fail(f"cannot write the chart to {out}: {exc.strerror or exc}; nothing else was changed")
    click.echo(f"wrote {out}: {title} ({len(png) // 1024} KB)")


COMMANDS = [chart]
