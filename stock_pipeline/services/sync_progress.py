"""Progress and the closing table of a foreground sync, tallied per symbol from run reports.

A run reports, per stored partition, the chart requests of the Yahoo window that served it
(a window covers several days of one symbol), and the run's total. Per symbol, each window
is counted once; requests of windows that stored nothing (failures) are the rest of the
run's total, shared among the symbols that failed in that run. Cookie, crumb and timezone
requests belong to no symbol: they are in the total only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stock_pipeline.domain.partition_keys import parse_history_keys, parse_intraday_keys, split_key
from stock_pipeline.domain.planning import plan_intraday_windows
from stock_pipeline.services.run_report import RunReport
from stock_pipeline.services.sync import RunSlice, SyncPlan


@dataclass
class SymbolTally:
    symbol: str
    planned: int = 0  # partitions of the plan for this symbol
    stored: int = 0
    failed: int = 0
    rows: int = 0
    requests: int = 0  # Yahoo chart requests for this symbol's bars

    @property
    def done(self) -> bool:
        return self.stored + self.failed >= self.planned


@dataclass
class SyncTally:
    """What a sync has done so far, per symbol and in total."""

    symbols: dict[str, SymbolTally]
    asset: str
    interval: str
    runs: int = 0
    requests: int = 0  # all Yahoo requests, cookie/crumb/timezone included
    failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_plan(cls, plan: SyncPlan) -> SyncTally:
        tally = cls({}, plan.asset, plan.interval)
        for key in plan.todo:
            symbol = _symbol(key)
            tally.symbols.setdefault(symbol, SymbolTally(symbol)).planned += 1
        return tally

    @property
    def stored(self) -> int:
        return sum(t.stored for t in self.symbols.values())

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.symbols.values())

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.symbols.values())

    @property
    def planned(self) -> int:
        return sum(t.planned for t in self.symbols.values())

    def add(self, run: RunSlice, report: RunReport) -> None:
        """Count one finished run: its partitions, rows and requests, per symbol."""
        self.runs += 1
        self.requests += report.requests
        failed = dict(report.failed)
        if not report.succeeded and not report.failed:
            # The run failed as a whole (crash, IO manager, config): what it did not store
            # is lost with the run's own reason.
            reason = (report.failure or f"run {report.status}").splitlines()[0]
            failed = {key: reason for key in run.keys if key not in report.stored}
        self.failures.update(failed)
        for key, part in report.stored.items():
            entry = self._entry(key)
            entry.stored += 1
            entry.rows += part.rows
        for key in failed:
            self._entry(key).failed += 1
        for symbol, requests in self._requests_by_symbol(run, report, failed).items():
            self._entry_for(symbol).requests += requests

    def _entry(self, key: str) -> SymbolTally:
        return self._entry_for(_symbol(key))

    def _entry_for(self, symbol: str) -> SymbolTally:
        return self.symbols.setdefault(symbol, SymbolTally(symbol))

    def _windows(self, keys: Sequence[str]) -> list[list[str]]:
        """The run's keys grouped as the asset fetched them: one group per Yahoo request."""
        if self.asset == "intraday_prices":
            parts = parse_intraday_keys(keys)
            key_of = {(p.symbol, p.day): p.key for p in parts}
            windows = plan_intraday_windows(list(key_of), self.interval)
            return [[key_of[(w.symbol, d)] for d in w.sessions] for w in windows]
        by_symbol: dict[str, list[str]] = {}
        for part in parse_history_keys(keys):
            by_symbol.setdefault(part.symbol, []).append(part.key)
        return list(by_symbol.values())

    def _requests_by_symbol(
        self, run: RunSlice, report: RunReport, failed: dict[str, str]
    ) -> dict[str, int]:
        counted: dict[str, int] = {}
        for window in self._windows(run.keys):
            served = [report.stored[k] for k in window if k in report.stored]
            if served:
                symbol = _symbol(window[0])
                counted[symbol] = counted.get(symbol, 0) + served[0].requests
        rest = max(0, report.price_requests - sum(counted.values()))
        losers = sorted({_symbol(k) for k in failed})
        for i, symbol in enumerate(losers):
            share = rest // len(losers) + (1 if i < rest % len(losers) else 0)
            counted[symbol] = counted.get(symbol, 0) + share
        return counted

    def progress_line(self, elapsed: float) -> str:
        done = sum(1 for t in self.symbols.values() if t.done)
        return (
            f"  progress: {done}/{len(self.symbols)} symbols, "
            f"{self.stored + self.failed}/{self.planned} partitions "
            f"({self.stored} stored, {self.failed} failed), {self.rows:,} rows, "
            f"{self.requests} Yahoo requests, {elapsed:.1f}s"
        )

    def table(self) -> list[str]:
        """One line per symbol: partitions stored and failed, rows, chart requests."""
        return summary_table(self.symbols.values())


def _symbol(key: str) -> str:
    return split_key(key)[1]


def summary_table(tallies: Iterable[SymbolTally]) -> list[str]:
    rows = sorted(tallies, key=lambda t: t.symbol)
    width = max([6, *(len(t.symbol) for t in rows)])
    lines = [f"{'symbol':<{width}}  {'stored':>6}  {'failed':>6}  {'rows':>9}  {'requests':>8}"]
    lines += [
        f"{t.symbol:<{width}}  {t.stored:>6}  {t.failed:>6}  {t.rows:>9,}  {t.requests:>8}"
        for t in rows
    ]
    return lines
