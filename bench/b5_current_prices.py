"""B5: Yahoo requests to refresh the current prices of 500 symbols.

Pipeline: ``current_prices_job`` of the project's Definitions (what ``current_prices_sensor``
launches), executed on a scratch instance with 500 symbols registered: v7 quote requests of
up to 250 symbols each. Every request the fake Yahoo answers counts, cookie and crumb
included.

Baseline: one request per symbol as a user script does it — ``yf.Ticker(s).fast_info
.last_price`` for each symbol through yfinance (a ``range=1y`` daily chart per symbol; the
first call per symbol also probes its timezone). Both get a price for every symbol.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import yfinance as yf

from bench.dagster_runs import scratch_instance
from bench.fake import fake_yahoo, request_counts, total
from bench.harness import (
    Result,
    clear_yfinance_cache,
    main_for,
    ratio,
    stopwatch,
    symbols,
    workdir,
)
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.settings import yfinance_cache_dir
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.session import YahooSession


@dataclass(frozen=True)
class Params:
    symbols: int = 500


FULL = Params()
SMOKE = Params(symbols=5)


def pipeline(syms: list[str]) -> tuple[Counter[str], int, float]:
    """Requests, prices stored and seconds of one current_prices_job run."""
    from stock_pipeline.definitions import defs

    with workdir("b5") as root, scratch_instance(root / "home") as instance, fake_yahoo() as fake:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        job = defs.resolve_job_def("current_prices_job")
        with stopwatch() as seconds:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        if not result.success:
            raise RuntimeError("current_prices_job failed")
        with connect(Lake.from_settings(), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM current_prices").fetchone()
        return request_counts(fake), int(row[0]) if row else 0, seconds[0]


def baseline(syms: list[str]) -> tuple[Counter[str], int, float]:
    """Requests, prices got and seconds of fast_info.last_price per symbol."""
    with workdir("b5-baseline"), fake_yahoo() as fake:
        clear_yfinance_cache()
        session = YahooSession(base_url=fake.url)  # only redirects yfinance to the fake
        yf.set_tz_cache_location(str(yfinance_cache_dir()))  # in the scratch folder
        prices = 0
        with stopwatch() as seconds:
            for symbol in syms:
                price = yf.Ticker(symbol, session=session).fast_info.last_price
                prices += price is not None and price > 0
        return request_counts(fake), prices, seconds[0]


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    pipe, stored, pipe_seconds = pipeline(syms)
    base, priced, base_seconds = baseline(syms)
    requests, base_requests = total(pipe), total(base)
    return [
        Result(
            id="B5",
            title=f"requests to refresh current prices of {params.symbols} symbols",
            value=requests,
            unit="req",
            target="≤ 5 in all",
            met=requests <= 5 and stored == params.symbols,
            baseline=base_requests,
            baseline_label="fast_info per symbol",
            ratio=ratio(requests, base_requests),
            seconds=pipe_seconds,
            detail={
                "pipeline_requests_by_kind": dict(pipe),
                "pipeline_prices_stored": stored,
                "pipeline_seconds": round(pipe_seconds, 2),
                "baseline_requests_by_kind": dict(base),
                "baseline_prices": priced,
                "baseline_seconds": round(base_seconds, 2),
            },
            notes=[
                f"pipeline {dict(pipe)} in {pipe_seconds:.1f} s, {stored} prices stored; "
                f"baseline {dict(base)} in {base_seconds:.1f} s, {priced} prices"
            ],
        )
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
