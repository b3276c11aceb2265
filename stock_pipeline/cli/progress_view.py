"""Live progress on the console: a rich bar on a terminal, a plain line now and then elsewhere.

The figures come from the runs' progress files (``services.run_progress``), polled by a
thread while the run executes (a foreground sync) or while another process runs it
(``stock-pipeline run RUN_ID --follow``). ``--quiet`` shows none of it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from stock_pipeline.domain.progress import SyncProgress

if TYPE_CHECKING:
    import dagster as dg

    from stock_pipeline.services.run_report import RunReport
    from stock_pipeline.services.sync import RunSlice, SyncPlan

Mode = Literal["bar", "lines", "off"]
LINE_SECONDS_ENV = "STOCK_PIPELINE_PROGRESS_LINE_SECONDS"
DEFAULT_LINE_SECONDS = 10.0  # a pipe or a log file: one line at least this often
BAR_POLL_SECONDS = 0.25


def choose_mode(quiet: bool) -> Mode:
    """No progress when quiet; a bar on a terminal; plain lines on a pipe or a file."""
    if quiet:
        return "off"
    return "bar" if Console().is_interactive else "lines"


def line_seconds() -> float:
    """Seconds between plain progress lines (``STOCK_PIPELINE_PROGRESS_LINE_SECONDS``)."""
    raw = os.environ.get(LINE_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_LINE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise click.UsageError(
            f"{LINE_SECONDS_ENV}={raw!r} is not a number of seconds; unset it or give e.g. 10"
        ) from None
    if value <= 0:
        raise click.UsageError(f"{LINE_SECONDS_ENV} must be a positive number of seconds")
    return value


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def figures(p: SyncProgress) -> str:
    """The figures beside the bar, and in a plain line."""
    rate = f"{p.rate:.1f}/s" if p.rate is not None else "-/s"
    limit = f", limit {p.requests_per_second:g} req/s" if p.requests_per_second else ""
    fetched = p.partitions_total and p.partitions_done >= p.partitions_total
    eta = "storing" if fetched and not p.finished else f"ETA {format_duration(p.eta_seconds)}"
    return (
        f"{p.symbols_done}/{p.symbols_total} symbols, {p.rows:,} rows, "
        f"{p.requests} Yahoo requests, {p.failed} failed, {rate}, {eta}{limit}"
    )


def progress_line(p: SyncProgress) -> str:
    return (
        f"  live: {p.partitions_done}/{p.partitions_total} partitions, {figures(p)}, "
        f"elapsed {format_duration(p.elapsed)}"
    )


class ProgressView:
    """Shows ``SyncProgress`` updates: a live bar, or a line every ``line_every`` seconds."""

    def __init__(self, mode: Mode, title: str, line_every: float | None = None) -> None:
        self.mode = mode
        self.title = title
        self.line_every = line_seconds() if line_every is None else line_every
        self._bar: Progress | None = None
        self._task: Any = None
        self._last_line = 0.0
        self._last_text = ""
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressView:
        if self.mode == "bar":
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("partitions, {task.fields[figures]}"),
                console=Console(file=sys.stdout),
                refresh_per_second=4,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.title, total=None, figures="starting")
        self._last_line = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def update(self, p: SyncProgress, force_line: bool = False) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(
                    self._task,
                    completed=p.partitions_done,
                    total=p.partitions_total or None,
                    figures=figures(p),
                )
            elif self.mode == "lines":
                now = time.monotonic()
                text = progress_line(p)
                if force_line or now - self._last_line >= self.line_every:
                    if force_line and text == self._last_text:
                        return
                    click.echo(text)
                    self._last_line, self._last_text = now, text


@contextmanager
def polling(
    source: Callable[[], SyncProgress | None], view: ProgressView, every: float | None = None
) -> Iterator[None]:
    """Feed ``view`` from ``source`` in a thread while the block runs; a last update after."""
    if view.mode == "off":
        yield
        return
    stop = threading.Event()
    period = every or (BAR_POLL_SECONDS if view.mode == "bar" else min(1.0, view.line_every))

    def loop() -> None:
        while not stop.wait(period):
            snapshot = source()
            if snapshot is not None:
                view.update(snapshot)

    thread = threading.Thread(target=loop, name="progress-view", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        snapshot = source()
        if snapshot is not None:
            view.update(snapshot, force_line=True)


def execute_with_progress(
    instance: dg.DagsterInstance,
    plan: SyncPlan,
    defs: dg.Definitions,
    yahoo: dict[str, Any] | None,
    on_run: Callable[[RunSlice, RunReport], None],
    mode: Mode,
) -> list[RunReport]:
    """``execute_plan`` with the plan's live progress shown while its runs execute."""
    from stock_pipeline.defs.resources import YahooFinanceResource
    from stock_pipeline.services.run_progress import PlanProgress
    from stock_pipeline.services.sync import execute_plan

    rate = (yahoo or {}).get("requests_per_second") or YahooFinanceResource().requests_per_second
    watched = PlanProgress(plan.asset, plan.interval, [run.keys for run in plan.runs], rate)

    def started(run: RunSlice, run_id: str) -> None:
        watched.started(run_id)

    def finished(run: RunSlice, report: RunReport) -> None:
        watched.finished()
        on_run(run, report)

    title = f"{plan.asset} {plan.interval}"
    with ProgressView(mode, title) as view, polling(watched.snapshot, view):
        return execute_plan(instance, plan, defs, yahoo, finished, on_start=started)
