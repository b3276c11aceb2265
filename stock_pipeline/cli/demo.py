"""demo and fake-yahoo: the offline paths."""

from __future__ import annotations

import sys

import click

from stock_pipeline.cli.common import guarded
from stock_pipeline.domain.symbols import parse_symbols

# ---- fake Yahoo and demo ---------------------------------------------------------------


@click.command("fake-yahoo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to each answer.")
@click.option("--rate-limit", type=float, help="Answer 429 above this many requests/second.")
def fake_yahoo(host: str, port: int, latency: float, rate_limit: float | None) -> None:
    """Serve a simulated Yahoo Finance (no network needed); point the pipeline at it with
    STOCK_PIPELINE_YAHOO_URL=http://HOST:PORT."""
    from stock_pipeline.fake_yahoo.server import serve

    serve(
        host, port, announce=click.echo, latency_seconds=latency, rate_limit_per_second=rate_limit
    )


@click.command()
@click.option("--symbols", "symbols_", default="AAPL,MSFT,NVDA", show_default=True)
@click.option("--days", default=3, show_default=True, type=click.IntRange(1, 30))
@guarded
def demo(symbols_: str, days: int) -> None:
    """Offline demo: fake Yahoo → Dagster runs → local DuckDB; prints what it stored."""
    from stock_pipeline.cli.demo_run import run_demo

    code = run_demo(parse_symbols(symbols_), days, echo=click.echo)
    sys.exit(code)


COMMANDS = [fake_yahoo, demo]
