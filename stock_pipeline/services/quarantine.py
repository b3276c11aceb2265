"""Dead symbols: counted after each finished run, quarantined after repeated not-found answers.

A symbol whose partitions fail N runs in a row (default 3) because Yahoo does not know it
(``SymbolNotFoundError``) or sends nothing (``NoDataError``) is quarantined: schedules and
the missing-partitions sensor leave it out until a person runs ``stock-pipeline symbols
enable SYMBOL``. A run that stores any of its partitions resets the count; other failures
(rate limits, outages, bad config) neither count nor reset.

The state lives in the Dagster instance's key-value store (the one Dagster's own daemons
keep cursors in), not in DuckDB: schedules and sensors read it every tick and must not wait
on the warehouse's single-writer file lock; it describes the run history, so it lives with
it (SQLite or PostgreSQL) and survives a rebuilt warehouse. One JSON document per instance,
rewritten whole by the dead-symbols sensor (when a count changes) and by ``symbols enable``;
should the two ever overlap, the loser's change is redone by the next finished run or by
running ``enable`` again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import dagster as dg

from stock_pipeline.domain.partition_keys import symbol_of
from stock_pipeline.domain.run_keys import SYMBOL_HEALTH_KEY
from stock_pipeline.services.run_report import RunReport, read_run_report


@dataclass(frozen=True)
class SymbolHealth:
    """A symbol's run of not-found/empty failures, and whether it is quarantined."""

    symbol: str
    failures: int  # consecutive runs that failed it as not found / empty
    last_reason: str
    last_run_id: str
    quarantined_at: str | None = None  # ISO 8601 UTC; None: still synced

    @property
    def quarantined(self) -> bool:
        return self.quarantined_at is not None


@dataclass(frozen=True)
class RunOutcome:
    """What one finished run says about its symbols."""

    run_id: str
    dead: Mapping[str, str]  # symbol -> first not-found/empty reason
    stored: frozenset[str]  # symbols with at least one partition stored


def run_outcome(report: RunReport) -> RunOutcome:
    """A symbol is dead in a run only if none of its partitions was stored: one empty day
    of a live symbol (a halt) is not a sign of a dead one."""
    stored = frozenset(s for s in map(symbol_of, report.stored) if s)
    dead: dict[str, str] = {}
    for key, failure in sorted(report.failures.items()):
        symbol = symbol_of(key)
        if symbol and symbol not in stored and failure.no_data:
            dead.setdefault(symbol, failure.text)
    return RunOutcome(report.run_id, dead, stored)


def apply_outcomes(
    health: Mapping[str, SymbolHealth],
    outcomes: Iterable[RunOutcome],
    threshold: int,
    now: datetime,
) -> tuple[dict[str, SymbolHealth], list[SymbolHealth]]:
    """Count runs in order; returns the new state and the symbols quarantined just now.

    A quarantined symbol's later failures (manual syncs) are not counted, so re-enabling
    it starts a fresh count.
    """
    state = dict(health)
    newly: list[SymbolHealth] = []
    for outcome in outcomes:
        for symbol in outcome.stored:
            current = state.get(symbol)
            if current is not None and not current.quarantined:
                del state[symbol]
        for symbol, reason in outcome.dead.items():
            current = state.get(symbol)
            if current is not None and current.quarantined:
                continue
            count = (current.failures if current else 0) + 1
            record = SymbolHealth(symbol, count, reason, outcome.run_id)
            if count >= threshold:
                record = replace(record, quarantined_at=now.isoformat())
                newly.append(record)
            state[symbol] = record
    return state, newly


# ---- the store ---------------------------------------------------------------------


def load_health(instance: dg.DagsterInstance) -> dict[str, SymbolHealth]:
    cursors = instance.daemon_cursor_storage.get_cursor_values({SYMBOL_HEALTH_KEY})
    raw = cursors.get(SYMBOL_HEALTH_KEY)
    if not raw:
        return {}
    return {s: SymbolHealth(**fields) for s, fields in json.loads(raw).items()}


def save_health(instance: dg.DagsterInstance, health: Mapping[str, SymbolHealth]) -> None:
    doc = {s: asdict(h) for s, h in sorted(health.items())}
    instance.daemon_cursor_storage.set_cursor_values({SYMBOL_HEALTH_KEY: json.dumps(doc)})


def quarantined_symbols(instance: dg.DagsterInstance) -> dict[str, SymbolHealth]:
    """Quarantined symbols with why and since when (for ``status`` and the CLI)."""
    return {s: h for s, h in load_health(instance).items() if h.quarantined}


def enable_symbol(instance: dg.DagsterInstance, symbol: str) -> SymbolHealth | None:
    """Lift a quarantine (and forget the failure count); the old record, or None."""
    health = load_health(instance)
    record = health.pop(symbol, None)
    if record is not None:
        save_health(instance, health)
    return record if record is not None and record.quarantined else None


def active_symbols(instance: dg.DagsterInstance, registered: Sequence[str]) -> list[str]:
    """Registered symbols that are not quarantined, in registration order."""
    dead = quarantined_symbols(instance)
    return [s for s in registered if s not in dead]


# ---- reading finished runs ------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    after_storage_id: int  # cursor for the next scan
    runs: int
    newly_quarantined: list[SymbolHealth]


def finished_runs(
    instance: dg.DagsterInstance, after_storage_id: int, limit: int
) -> list[tuple[int, str]]:
    """(storage id, run id) of runs that succeeded or failed since the cursor, in order.

    Every job counts (a backfill launched from the UI runs as an anonymous asset job); runs
    without price partitions simply say nothing about any symbol.

    Success and failure events are fetched apart; when either reaches ``limit`` the merged
    list stops at its last id, so no event of the other kind is skipped past.
    """
    merged: list[tuple[int, str]] = []
    stop: int | None = None
    for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
        result = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(
                event_type=event_type, after_storage_id=after_storage_id
            ),
            limit=limit,
            ascending=True,
        )
        ids = [(r.storage_id, r.event_log_entry.run_id) for r in result.records]
        merged.extend(ids)
        if len(ids) >= limit:
            stop = ids[-1][0] if stop is None else min(stop, ids[-1][0])
    merged.sort()
    return [item for item in merged if stop is None or item[0] <= stop]


def scan_finished_runs(
    instance: dg.DagsterInstance,
    after_storage_id: int,
    threshold: int,
    now: datetime,
    limit: int = 200,
) -> ScanResult:
    """Update the failure counts from the runs finished since the cursor."""
    runs = finished_runs(instance, after_storage_id, limit)
    if not runs:
        return ScanResult(after_storage_id, 0, [])
    outcomes = [
        run_outcome(read_run_report(instance, run_id))
        for _, run_id in runs
        if instance.has_run(run_id)  # a run deleted since it finished says nothing
    ]
    health = load_health(instance)
    updated, newly = apply_outcomes(health, outcomes, threshold, now)
    if updated != health:
        save_health(instance, updated)
    return ScanResult(runs[-1][0], len(runs), newly)
