"""What every benchmark shares: results, timing, memory, isolation, the table.

A benchmark module defines ``Params`` with ``FULL`` and ``SMOKE`` sizes, ``run(params)``
returning ``Result``s, and ``main()`` (``python -m bench.bN_…``) printing them as JSON.
``run_child`` runs a module in a fresh process and reads that process's peak RSS.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import resource
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "data" / "bench"
JSON_MARK = "BENCH-RESULTS-JSON:"
P = TypeVar("P")


@dataclass
class Result:
    """One row of the table: a measured figure beside its baseline and the target."""

    id: str
    title: str
    value: float
    unit: str
    target: str
    met: bool | None  # None: no target (informational row)
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None  # value / baseline
    seconds: float | None = None  # wall time of the measured part
    detail: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "info"
        return "MET" if self.met else "MISSED"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        fields = {k: v for k, v in data.items() if k != "verdict"}
        return cls(**fields)


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline else None


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Elapsed wall seconds, in ``box[0]`` once the block ends."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def workdir(name: str) -> Iterator[Path]:
    """A scratch folder on disk with the pipeline's paths (and yfinance's caches) in it."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as raw:
        root = Path(raw)
        data = root / "data"
        data.mkdir()
        with (
            environment(
                STOCK_PIPELINE_DATA_DIR=str(data),
                STOCK_PIPELINE_WAREHOUSE=str(data / "warehouse"),
                STOCK_PIPELINE_YAHOO_URL=None,
            ),
            fresh_yfinance_disk_caches(),
        ):
            yield root


def symbols(count: int) -> list[str]:
    """Distinct, valid tickers (BAAA, BAAB, …): the fake Yahoo knows every symbol."""
    letters = string.ascii_uppercase
    out = []
    for i in range(count):
        a, rest = divmod(i, 26 * 26)
        b, c = divmod(rest, 26)
        out.append("B" + letters[a % 26] + letters[b] + letters[c])
    return out


def clear_yfinance_cache() -> None:
    """yfinance keeps answers for past windows process-wide: measured phases start empty."""
    import yfinance.data

    yfinance.data.YfData.cache_get.cache_clear()


def warm_yfinance_timezones(syms: Sequence[str], tz: str = "America/New_York") -> None:
    """yfinance's timezone cache as a second run finds it: every symbol already looked up.

    Inside ``workdir`` (the pipeline's yfinance cache folder is in its data dir). A cron
    script run hourly, like the pipeline's hourly schedule, has a warm cache after its first.
    """
    import yfinance as yf
    from yfinance import cache

    from stock_pipeline.settings import yfinance_cache_dir

    folder = yfinance_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(folder))
    tz_cache = cache.get_tz_cache()
    for symbol in syms:
        tz_cache.store(symbol, tz)


@contextmanager
def fresh_yfinance_disk_caches() -> Iterator[None]:
    """Let the pipeline open yfinance's timezone and cookie caches anew in the block's data dir.

    yfinance opens them once per process and ignores later ``set_tz_cache_location`` calls;
    a benchmark phase on a fresh data dir must start with empty caches (timezone look-ups
    are counted) and must not leave yfinance holding a folder that is then deleted.
    """
    from yfinance import cache

    previous = cache._TzDBManager.get_location()

    def reset() -> None:
        cache._TzCacheManager._tz_cache = None
        cache._CookieCacheManager._Cookie_cache = None
        cache._ISINCacheManager._isin_cache = None

    reset()
    try:
        yield
    finally:
        reset()
        cache.set_cache_location(previous)


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, memory, load, Python and library versions."""
    from importlib.metadata import version

    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal"):
                mem_kib = int(line.split()[1])
    packages = ("dagster", "yfinance", "duckdb", "pandas", "curl_cffi")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "versions": {p: version(p) for p in packages},
    }


# ---- running a benchmark in its own process ---------------------------------------------


@dataclass
class ChildRun:
    results: list[Result]
    peak_rss_mib: float  # the child's ru_maxrss
    seconds: float
    log: Path


def run_child(module: str, args: Sequence[str], log_dir: Path) -> ChildRun:
    """``python -m module args`` in a fresh process; its results and its peak RSS.

    The child's stderr (Dagster's and yfinance's logs) goes to a log file; its stdout ends
    with one JSON line of results.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{module.rsplit('.', 1)[-1]}.log"
    start = time.perf_counter()
    with log.open("w") as err, tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=REPO, stdout=out, stderr=err, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"{module} exited with {proc.returncode}; log {log}:\n{tail}")
    return ChildRun(parse_results(stdout), usage.ru_maxrss / 1024, seconds, log)


def main_for(run: Callable[[P], list[Result]], full: P, smoke: P) -> None:
    """Command line of one benchmark: ``[--smoke] [--set NAME=VALUE …]``, JSON to stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="the reduced size of the tests")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    params = smoke if args.smoke else full
    for item in args.set:
        name, _, raw = item.partition("=")
        current = getattr(params, name)
        value: Any = raw.lower() in ("1", "true", "yes") if isinstance(current, bool) else raw
        if not isinstance(current, bool | str) and current is not None:
            value = type(current)(raw)
        params = dataclasses.replace(params, **{name: value})  # type: ignore[type-var]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    emit(run(params))


def emit(results: Sequence[Result]) -> None:
    """Print results as the last stdout line (what ``run_child`` reads)."""
    print(JSON_MARK + json.dumps([r.to_json() for r in results]), flush=True)


def parse_results(stdout: str) -> list[Result]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(JSON_MARK):
            return [Result.from_json(d) for d in json.loads(line[len(JSON_MARK) :])]
    raise RuntimeError("the benchmark printed no results")


# ---- the table ---------------------------------------------------------------------------


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if value == int(value) and abs(value) >= 1:
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    header = ["#", "what", "pipeline", "baseline", "ratio", "target", "verdict"]
    rows = [header]
    for r in results:
        baseline = _num(r.baseline, r.unit) if r.baseline is not None else "—"
        if r.baseline_label and r.baseline is not None:
            baseline = f"{baseline} ({r.baseline_label})"
        rows.append(
            [
                r.id,
                r.title,
                _num(r.value, r.unit),
                baseline,
                f"{r.ratio:.3g}×" if r.ratio is not None else "—",
                r.target,
                r.verdict,
            ]
        )
    return rows


def format_table(results: Sequence[Result]) -> str:
    rows = table_rows(results)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[Result]) -> str:
    rows = table_rows(results)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)
