"""B7: a 200-symbol sync against a Yahoo that answers in 100 ms and refuses above 10/s.

Pipeline: ``stock-pipeline sync-intraday --symbols … --delay D`` (the command line, run
in-process through click) for the latest session on a scratch instance, every symbol new
to the machine (their timezones unknown to yfinance). ``--delay`` is 1 / ``requests_per_second``
(9.5/s: 5% under the limit, as arrival times jitter); a ``--delay`` is a fixed pace (its
ceiling is its rate: no climb, no halving), so this measures the pacing itself. 0 leaves
the resource's default: a rate starting at 5/s and adapting up to 10/s.

Ideal: the requests Yahoo had to answer (every request it did not refuse) at exactly the
limit, ``requests ÷ 10`` seconds. Target: within 1.15× of that, and no 429. Two rows:

- ``B7``: the sync's Yahoo phase, from the first request Yahoo saw to the last: how well the
  pipeline paces itself against the limit (what a rate limit governs).
- ``B7-wall``: the whole command, start to exit: the request phase plus the command's and
  Dagster's own work before and after fetching (run creation, the DuckDB write, the asset
  checks' events; B2 breaks these down).

The fake runs in a process of its own (``bench.fake_process``), as Yahoo is another machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from click.testing import CliRunner

from bench.dagster_runs import run_timings, scratch_instance
from bench.fake import total
from bench.fake_process import fake_yahoo_process
from bench.harness import Result, clear_yfinance_cache, main_for, stopwatch, symbols, workdir
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect


@dataclass(frozen=True)
class Params:
    symbols: int = 200
    latency: float = 0.1
    rate_limit: float = 10.0
    requests_per_second: float = 0.0  # --delay 1/this; 0: the resource default
    storage: str = "sqlite"  # the Dagster instance: "sqlite" (local) or "postgres" (deploy)


FULL = Params(requests_per_second=9.5)
SMOKE = Params(symbols=5, requests_per_second=9.5)


def run(params: Params) -> list[Result]:
    from stock_pipeline.cli import main

    syms = symbols(params.symbols)
    args = ["sync-intraday", "--symbols", ",".join(syms), "--quiet"]
    if params.requests_per_second:
        args += ["--delay", f"{1 / params.requests_per_second:.6f}"]
    with (
        workdir("b7") as root,
        scratch_instance(root / "home", storage=params.storage) as instance,
        fake_yahoo_process(params.latency, params.rate_limit) as fake,
    ):
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        with stopwatch() as seconds:
            outcome = CliRunner().invoke(main, args, catch_exceptions=False)
        counts, span = fake.stats()
        arrivals = fake.arrivals()
        timings = [run_timings(instance, run.run_id) for run in instance.get_runs()]
        with connect(Lake.from_settings(), read_only=True) as con:
            row = con.execute("SELECT count(DISTINCT symbol) FROM intraday_prices").fetchone()
    stored = int(row[0]) if row else 0
    refused = counts["429"]
    answered = total(counts) - refused
    ideal = answered / params.rate_limit
    wall = seconds[0]
    rate = f"{params.requests_per_second:g}/s" if params.requests_per_second else "default"
    complete = refused == 0 and stored == params.symbols and outcome.exit_code == 0
    title = (
        f"{params.symbols}-symbol sync, Yahoo 100 ms and 429 above {params.rate_limit:g}/s "
        f"(rate {rate}{', ' + params.storage + ' instance' if params.storage != 'sqlite' else ''})"
    )
    gaps = sorted(b - a for a, b in pairwise(arrivals))
    pace = 1 / params.requests_per_second if params.requests_per_second else 0.0
    detail = {
        "requests_by_kind": dict(counts),
        "arrival_gaps_ms": {
            "median": round(1000 * gaps[len(gaps) // 2], 1) if gaps else None,
            "max": round(1000 * gaps[-1], 1) if gaps else None,
            "over_2x_pace": sum(g > 2 * pace for g in gaps) if pace else None,
            "excess_over_pace_s": round(sum(max(0.0, g - pace) for g in gaps), 2),
        },
        "slowest_gaps_at_s": [
            [round(a, 2), round(1000 * (b - a), 1)]
            for a, b in sorted(pairwise(arrivals), key=lambda p: p[0] - p[1])[:8]
        ],
        "yahoo_span_seconds": round(span, 2),
        "yahoo_span_vs_ideal": round(span / ideal, 3),
        "wall_seconds": round(wall, 2),
        "wall_vs_ideal": round(wall / ideal, 3),
        "requests_answered": answered,
        "responses_429": refused,
        "symbols_stored": stored,
        "exit_code": outcome.exit_code,
        "requests_per_second": params.requests_per_second or None,
        "fake_latency_s": params.latency,
        "command": "stock-pipeline " + " ".join(a if len(a) < 40 else "…" for a in args),
        "output_tail": outcome.output.strip().splitlines()[-1:],
        "timings": timings,
    }
    summary = (
        f"{answered} requests answered, {refused} refused (429); {stored} of "
        f"{params.symbols} symbols stored; exit code {outcome.exit_code}"
    )
    baseline_label = f"ideal: {answered} req ÷ {params.rate_limit:g}/s"

    def against_ideal(
        id: str, what: str, seconds: float, extra: dict[str, Any], note: str
    ) -> Result:
        return Result(
            id=id,
            title=f"{title}: {what}",
            value=seconds,
            unit="s",
            target="≤ 1.15× ideal, 0 × 429",
            met=seconds <= 1.15 * ideal and complete,
            baseline=ideal,
            baseline_label=baseline_label,
            ratio=seconds / ideal,
            seconds=seconds,
            detail=extra,
            notes=[note],
        )

    return [
        against_ideal(
            "B7", "Yahoo phase", span, detail, f"{summary}; first to last request {span:.1f} s"
        ),
        against_ideal(
            "B7-wall",
            "whole command",
            wall,
            {"wall_seconds": round(wall, 2), "yahoo_span_seconds": round(span, 2)},
            f"start to exit {wall:.1f} s: {span:.1f} s of requests, "
            f"{wall - span:.1f} s of the command's and Dagster's own work",
        ),
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
