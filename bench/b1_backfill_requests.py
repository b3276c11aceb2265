"""B1: Yahoo price requests of a 30-day 5m backfill of 100 symbols, launched as a Dagster backfill.

Pipeline: the project's Definitions on a scratch instance; the backfill is launched through
the UI's GraphQL mutation and run by the backfill daemon — a real ``dagster-daemon``
process launching each run in its own process (``launch="daemon"``, the full size), or the
daemon's iteration called in this process with runs launched one by one in it
(``launch="in_process"``, the smoke size). Requests are counted by the fake Yahoo.

Baseline: Dagster's default backfill, one run per (day, symbol) partition, each fetching its
own partition (``bench.b1_baseline_defs``). The same GraphQL launch and backfill daemon
submit the runs; ``baseline_sample`` of them (evenly spread) are then executed for real
and their requests counted; the total is runs × requests per executed run, and is marked
as measured only when every run was executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from bench import NOW
from bench.dagster_runs import (
    backfill_runs,
    daemon_process,
    finish_backfill,
    launch_backfill,
    launch_queued,
    scratch_instance,
    submit_all_runs,
    wait_for_backfill,
    workspace,
)
from bench.fake import fake_yahoo, one_off, request_counts
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
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.services.run_report import read_run_report
from stock_pipeline.warehouse.tables import connect


@dataclass(frozen=True)
class Params:
    symbols: int = 100
    days: int = 30
    launch: str = "daemon"  # or "in_process"
    baseline_sample: int = 30  # baseline runs executed for real
    timeout: float = 3600.0


FULL = Params()
SMOKE = Params(symbols=2, days=2, launch="in_process", baseline_sample=2)


@dataclass
class Phase:
    runs: int
    executed_runs: int
    counts: dict[str, int]
    seconds: float
    statuses: dict[str, int]
    materialized: int
    rows: int
    reported_price_requests: int  # sum of run_yahoo_price_requests over the runs


def backfill_keys(params: Params) -> tuple[list[str], list[str]]:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    return syms, [intraday_key(s, d) for s in syms for d in days]


def _statuses(runs: list[dg.DagsterRun]) -> dict[str, int]:
    out: dict[str, int] = {}
    for run in runs:
        out[run.status.value] = out.get(run.status.value, 0) + 1
    return out


def _rows(database: Path) -> int:
    if not database.exists():
        return 0
    with connect(database, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    return int(row[0]) if row else 0


def _phase(root: Path, module: str, launch: str, params: Params, sample: int | None) -> Phase:
    """Launch the backfill of ``module``'s intraday_prices; execute all runs or a sample."""
    syms, keys = backfill_keys(params)
    home = root / f"home-{module.rsplit('.', 1)[-1]}"
    with scratch_instance(home, launch) as instance, fake_yahoo() as fake:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        with workspace(instance, module) as context, stopwatch() as elapsed:
            backfill_id = launch_backfill(context, "intraday_prices", keys)
            if launch == "daemon":
                with daemon_process(root / "dagster-daemon.log") as proc:
                    wait_for_backfill(instance, backfill_id, proc, params.timeout)
                executed = backfill_runs(instance, backfill_id)
            else:
                runs = submit_all_runs(context, backfill_id, params.timeout)
                executed = _spread(runs, sample) if sample is not None else runs
                launch_queued(context, executed)
                if sample is None:
                    finish_backfill(context, backfill_id)
        runs = backfill_runs(instance, backfill_id)
        done = [r for r in runs if r.run_id in {e.run_id for e in executed}]
        reported = sum(read_run_report(instance, r.run_id).price_requests for r in done)
        materialized = len(instance.get_materialized_partitions(dg.AssetKey("intraday_prices")))
        return Phase(
            runs=len(runs),
            executed_runs=len(done),
            counts=dict(request_counts(fake)),
            seconds=elapsed[0],
            statuses=_statuses(runs),
            materialized=materialized,
            rows=_rows(Path(instance_database())),
            reported_price_requests=reported,
        )


def instance_database() -> str:
    from stock_pipeline import settings

    return settings.warehouse_location()


def _spread(runs: list[dg.DagsterRun], count: int) -> list[dg.DagsterRun]:
    """``count`` runs spread evenly over the list (all when there are fewer)."""
    if count >= len(runs):
        return list(runs)
    step = len(runs) / count
    return [runs[int(i * step)] for i in range(count)]


def run(params: Params) -> list[Result]:
    partitions = params.symbols * params.days
    with workdir("b1") as root:
        pipe = _phase(root / "pipeline", "stock_pipeline.definitions", params.launch, params, None)
    with workdir("b1-baseline") as root:
        base = _phase(
            root / "baseline",
            "bench.b1_baseline_defs",
            "in_process",
            params,
            params.baseline_sample,
        )
    price = pipe.counts.get("chart", 0)
    per_run = base.counts.get("chart", 0) / max(base.executed_runs, 1)
    baseline_total = per_run * base.runs
    fully_measured = base.executed_runs == base.runs
    notes = [
        f"pipeline: {pipe.runs} run(s) launched by {params.launch.replace('_', '-')} "
        f"backfill daemon, statuses {pipe.statuses}; {pipe.materialized} of {partitions} "
        f"partitions materialized, {pipe.rows} rows stored",
        f"baseline: the backfill daemon submitted {base.runs} one-partition runs; "
        + (
            f"all executed: {base.counts.get('chart', 0)} price requests measured"
            if fully_measured
            else f"{base.executed_runs} executed ({base.counts.get('chart', 0)} price "
            f"requests, {per_run:.2f} per run); total = {base.runs} runs × {per_run:.2f}"
        ),
    ]
    return [
        Result(
            id="B1",
            title=f"price requests, {params.days}-day 5m backfill of {params.symbols} symbols",
            value=price,
            unit="req",
            target=f"≤ {params.symbols} (1 per symbol)",
            met=price <= params.symbols and pipe.materialized >= partitions,
            baseline=baseline_total,
            baseline_label="measured" if fully_measured else "runs × sampled req/run",
            ratio=ratio(price, baseline_total),
            seconds=pipe.seconds,
            detail={
                "partitions": partitions,
                "pipeline_runs": pipe.runs,
                "pipeline_requests_by_kind": pipe.counts,
                "pipeline_one_off_requests": one_off_counts(pipe.counts),
                "pipeline_price_requests_in_run_metadata": pipe.reported_price_requests,
                "pipeline_statuses": pipe.statuses,
                "pipeline_partitions_materialized": pipe.materialized,
                "pipeline_rows": pipe.rows,
                "pipeline_seconds": round(pipe.seconds, 1),
                "baseline_runs": base.runs,
                "baseline_runs_executed": base.executed_runs,
                "baseline_requests_by_kind": base.counts,
                "baseline_price_requests_per_run": per_run,
                "baseline_seconds": round(base.seconds, 1),
                "launch": params.launch,
            },
            notes=notes,
        )
    ]


def one_off_counts(counts: dict[str, int]) -> int:
    from collections import Counter

    return one_off(Counter(counts))


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
