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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import click
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from stock_pipeline.domain.progress import SyncProgress

if TYPE_CHECKING:
    from stock_pipeline.services.run_progress import PlanProgress
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


def _rate(p: SyncProgress) -> str:
    return f"{p.rate:.1f} partitions/s" if p.rate is not None else "- partitions/s"


def _eta(p: SyncProgress) -> str:
    fetched = p.partitions_total and p.partitions_done >= p.partitions_total
    if fetched and not p.finished:
        return "storing"
    return f"ETA {format_duration(p.eta_seconds)}"


WAITING = "waiting for the run to start fetching"


def figures(p: SyncProgress) -> str:
    """Symbols, rows, requests, failures and the rate limit (the bar's second line)."""
    if not p.partitions_total and not p.finished:
        return WAITING
    limit = f", limit {p.requests_per_second:g} req/s" if p.requests_per_second else ""
    return (
        f"{p.symbols_done}/{p.symbols_total} symbols, {p.rows:,} rows, "
        f"{p.requests} Yahoo requests, {p.failed} failed{limit}"
    )


def progress_line(p: SyncProgress) -> str:
    """One plain line: everything the bar shows."""
    if not p.partitions_total and not p.finished:
        return f"  live: {WAITING}"
    return (
        f"  live: {p.partitions_done}/{p.partitions_total} partitions, {figures(p)}, "
        f"{_rate(p)}, {_eta(p)}, elapsed {format_duration(p.elapsed)}"
    )


class _BarWithFigures(Progress):
    """The bar on one line, the figures under it (a terminal of 80 columns holds both)."""

    figures = "starting"

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield Text(f"  {self.figures}")


class ProgressView:
    """Shows ``SyncProgress`` updates: a live bar, or a line every ``line_every`` seconds."""

    def __init__(self, mode: Mode, title: str, line_every: float | None = None) -> None:
        self.mode = mode
        self.title = title
        self.line_every = line_seconds() if line_every is None else line_every
        self._bar: _BarWithFigures | None = None
        self._task: Any = None
        self._last_line = 0.0
        self._last_text = ""
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressView:
        if self.mode == "bar":
            self._bar = _BarWithFigures(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("partitions  {task.fields[rate]}  {task.fields[eta]}"),
                console=Console(file=sys.stdout),
                refresh_per_second=4,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.title, total=None, rate="", eta="")
        self._last_line = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def echo(self, text: str) -> None:
        """A line of output above the bar (or plain, without one)."""
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text)

    def update(self, p: SyncProgress, force_line: bool = False) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.figures = figures(p)
                self._bar.update(
                    self._task,
                    completed=p.partitions_done,
                    total=p.partitions_total or None,
                    rate=_rate(p),
                    eta=_eta(p),
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


class PlanWatch:
    """A foreground sync's runs, watched: what ``execute_plan`` calls, and the view."""

    def __init__(self, watched: PlanProgress, view: ProgressView) -> None:
        self.watched = watched
        self.view = view

    def started(self, run: RunSlice, run_id: str) -> None:
        self.watched.started(run_id)

    def finished(self, run: RunSlice, report: RunReport) -> None:
        self.watched.finished()

    def echo(self, text: str) -> None:
        self.view.echo(text)


@contextmanager
def watching_plan(plan: SyncPlan, yahoo: dict[str, Any] | None, mode: Mode) -> Iterator[PlanWatch]:
    """Show the plan's live progress while the block executes its runs."""
    from stock_pipeline.defs.resources import YahooFinanceResource
    from stock_pipeline.services.run_progress import PlanProgress

    rate = (yahoo or {}).get("requests_per_second") or YahooFinanceResource().requests_per_second
    watched = PlanProgress(plan.asset, plan.interval, [run.keys for run in plan.runs], rate)
    with (
        ProgressView(mode, f"{plan.asset} {plan.interval}") as view,
        polling(watched.snapshot, view),
    ):
        yield PlanWatch(watched, view)
