"""P1: what the live progress channel costs a sync (target: at most 1 % of the run).

Pipeline: a foreground ``sync-intraday`` of today for N symbols, as the command line runs
it (``plan_intraday`` + ``execute_plan`` on a scratch instance), twice: with the progress
channel (the run's fetch loop publishes ``RunProgress`` to its JSON file, the command's
thread reads it and prints a plain line, as on a pipe) and without it
(``STOCK_PIPELINE_PROGRESS=off``, no reader).

The value is the channel's own time measured inside the run with it: the tracker's time in
its counting and file writes (``channel_seconds`` in the run's last snapshot) plus the
reader thread's CPU time (reading the file, summing, formatting), as a share of that run's
wall time. The two wall times are reported beside it: on a shared 2-core machine their
difference is mostly noise, which is why the share is measured directly.
"""

from __future__ import annotations

import io
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import Any

from bench import NOW
from bench.dagster_runs import scratch_instance
from bench.fake_process import fake_yahoo_process
from bench.harness import (
    Result,
    clear_yfinance_cache,
    environment,
    main_for,
    ratio,
    stopwatch,
    symbols,
    warm_yfinance_timezones,
    workdir,
)
from stock_pipeline.cli.progress_view import ProgressView, polling
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.domain.progress import SyncProgress
from stock_pipeline.domain.trading_calendar import latest_session
from stock_pipeline.services.run_progress import PROGRESS_ENV, PlanProgress, read_progress
from stock_pipeline.services.sync import RunSlice, execute_plan, plan_intraday
from stock_pipeline.warehouse.lake import Lake

INTERVAL = "5m"


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    latency: float = 0.05  # the fake's seconds per answer
    requests_per_second: float = 20.0  # the pipeline's Yahoo rate
    line_seconds: float = 10.0  # the plain-line period of a piped sync


FULL = Params()
SMOKE = Params(symbols=5, latency=0.0, line_seconds=0.5)


@dataclass
class Side:
    seconds: float
    rows: int
    stored: int
    writer_seconds: float = 0.0
    reader_seconds: float = 0.0
    reads: int = 0
    lines: int = 0


class _TimedView(ProgressView):
    """The command line's plain-line view, its CPU time counted."""

    spent = 0.0

    def update(self, p: SyncProgress, force_line: bool = False) -> None:
        began = time.thread_time()
        super().update(p, force_line)
        self.spent += time.thread_time() - began


def sync(params: Params, syms: list[str], progress: bool) -> Side:
    from stock_pipeline.definitions import defs

    yahoo = {  # a fixed pace: the channel's cost, not the rate's climb, is measured
        "requests_per_second": params.requests_per_second,
        "max_requests_per_second": params.requests_per_second,
    }
    with (
        workdir("p1") as root,
        scratch_instance(root / "home") as instance,
        fake_yahoo_process(params.latency, None),
        environment(**{PROGRESS_ENV: None if progress else "off"}),
    ):
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        warm_yfinance_timezones(syms)
        plan = plan_intraday(
            instance, Lake.from_settings(), syms, INTERVAL, [latest_session(NOW)], force=True
        )
        watched = PlanProgress(
            plan.asset, plan.interval, [r.keys for r in plan.runs], params.requests_per_second
        )
        view = _TimedView("lines" if progress else "off", "p1", line_every=params.line_seconds)
        reader = [0.0, 0]

        def source() -> SyncProgress:
            began = time.thread_time()
            snapshot = watched.snapshot()
            reader[0] += time.thread_time() - began
            reader[1] += 1
            return snapshot

        def started(run: RunSlice, run_id: str) -> None:
            watched.started(run_id)

        out = io.StringIO()
        with redirect_stdout(out), stopwatch() as seconds, view, polling(source, view):
            reports = execute_plan(instance, plan, defs, yahoo, on_start=started)
        writer = 0.0
        for report in reports:
            snapshot = read_progress(report.run_id)
            writer += snapshot.channel_seconds if snapshot else 0.0
        return Side(
            seconds[0],
            sum(r.rows for r in reports),
            sum(len(r.stored) for r in reports),
            writer_seconds=writer,
            reader_seconds=reader[0] + view.spent,
            reads=int(reader[1]),
            lines=out.getvalue().count("  live: "),
        )


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    without = sync(params, syms, progress=False)
    with_ = sync(params, syms, progress=True)
    cost = with_.writer_seconds + with_.reader_seconds
    share = 100 * cost / with_.seconds if with_.seconds else 0.0
    detail: dict[str, Any] = {
        "symbols": params.symbols,
        "fake_latency_s": params.latency,
        "pipeline_requests_per_second": params.requests_per_second,
        "wall_with_progress_s": round(with_.seconds, 3),
        "wall_without_progress_s": round(without.seconds, 3),
        "wall_ratio": ratio(with_.seconds, without.seconds),
        "writer_seconds": round(with_.writer_seconds, 4),
        "reader_cpu_seconds": round(with_.reader_seconds, 4),
        "reader_polls": with_.reads,
        "plain_lines_printed": with_.lines,
        "rows_with": with_.rows,
        "rows_without": without.rows,
        "partitions_stored_with": with_.stored,
        "partitions_stored_without": without.stored,
    }
    return [
        Result(
            id="P1",
            title=f"live progress channel's cost in a {params.symbols}-symbol 5m sync",
            value=share,
            unit="%",
            target="≤ 1 % of the run",
            met=share <= 1.0 and with_.rows == without.rows,
            seconds=with_.seconds,
            detail=detail,
            notes=[
                f"channel {cost:.3f} s (writer {with_.writer_seconds:.3f} s, reader CPU "
                f"{with_.reader_seconds:.3f} s, {with_.reads} polls, {with_.lines} lines) of a "
                f"{with_.seconds:.1f} s run; without progress {without.seconds:.1f} s"
            ],
        )
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
