"""Runs of one Dagster backfill share their Yahoo requests: each symbol's window is fetched once.

Dagster cuts a backfill of D days × S symbols into runs holding constant whichever
dimension has fewer values, so a 30-day backfill of 100 symbols is 30 runs of one day ×
100 symbols; fetching only its own partitions, each run would spend a chart request per
(symbol, day) — 3,000 instead of 100 (BENCHMARKS.md, B1). Here a backfill run fetches,
with its own days, the symbol's other days of the same backfill in the same request
(``domain.shared_windows``), stores those at once (final sessions only) and lists them in
the backfill's manifest (``<data dir>/backfills/<id>-<interval>.json``); the backfill's
later runs read listed partitions from the warehouse instead of asking Yahoo. Runs of one
backfill take turns (a file lock), so two never fetch the same window at once. A run that
is not part of a backfill fetches exactly its own partitions. A backfill's files are
removed once it has ended (``prune_backfill_files``, at each backfill run and daily).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from stock_pipeline import settings
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.domain.bars import INTRADAY_COLUMNS, empty_intraday
from stock_pipeline.domain.partition_keys import KEY_SEPARATOR, SymbolDay, parse_intraday_keys
from stock_pipeline.domain.progress import ProgressTracker
from stock_pipeline.domain.run_keys import BACKFILL_TAG
from stock_pipeline.domain.shared_windows import shared_window_days
from stock_pipeline.domain.trading_calendar import expected_bar_count
from stock_pipeline.warehouse.lock import WarehouseLockTimeout, warehouse_lock
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, read_slices
from stock_pipeline.yahoo.batch import BatchResult, PartitionOutcome, fetch_intraday
from stock_pipeline.yahoo.client import YahooClient

# A run waits this long for the backfill's run ahead of it, then fetches on its own.
LOCK_WAIT_SECONDS = 3600.0
# Backfill statuses whose runs may still start or be running: their files are kept.
LIVE_BACKFILL_STATUSES = frozenset({"REQUESTED", "CANCELING", "FAILING"})


def backfill_files_dir() -> Path:
    return settings.data_dir() / "backfills"


def prune_backfill_files(instance: dg.DagsterInstance, folder: Path | None = None) -> list[str]:
    """Delete the manifests and lock files of backfills that have ended (or are unknown to
    the instance); returns the ids pruned. Files of live backfills are kept."""
    folder = folder or backfill_files_dir()
    if not folder.is_dir():
        return []
    by_id: dict[str, list[Path]] = {}
    for path in folder.iterdir():
        backfill_id = path.name.split("-", 1)[0].split(".", 1)[0]
        by_id.setdefault(backfill_id, []).append(path)
    pruned = []
    for backfill_id, paths in sorted(by_id.items()):
        backfill = instance.get_backfill(backfill_id)
        if backfill is not None and backfill.status.value in LIVE_BACKFILL_STATUSES:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
        pruned.append(backfill_id)
    return pruned


@dataclass(frozen=True)
class BackfillScope:
    """The backfill a run belongs to and the days it wants of each symbol."""

    backfill_id: str
    days: dict[str, frozenset[date]]


def backfill_scope(context: dg.AssetExecutionContext) -> BackfillScope | None:
    """The run's backfill and what it targets of this asset; None outside a backfill."""
    backfill_id = context.run.tags.get(BACKFILL_TAG)
    if not backfill_id:
        return None
    backfill = context.instance.get_backfill(backfill_id)
    if backfill is None:
        return None
    if backfill.is_asset_backfill:
        data = backfill.get_asset_backfill_data(context.repository_def.asset_graph)
        if context.asset_key not in data.target_subset.asset_keys:
            return None
        keys = data.target_subset.get_partitions_subset(context.asset_key).get_partition_keys()
    else:
        keys = backfill.partition_names or []
    days: dict[str, set[date]] = {}
    for p in parse_intraday_keys(keys):
        days.setdefault(p.symbol, set()).add(p.day)
    return BackfillScope(backfill_id, {s: frozenset(d) for s, d in days.items()})


def fetch_intraday_for_run(
    context: dg.AssetExecutionContext,
    client: YahooClient,
    warehouse: WarehouseResource,
    partitions: Sequence[SymbolDay],
    interval: str,
    max_workers: int,
    progress: ProgressTracker | None = None,
) -> BatchResult:
    """The run's partitions: fetched, or stored earlier by a run of the same backfill."""
    scope = backfill_scope(context)
    if scope is None:
        return fetch_intraday(
            client, partitions, interval, max_workers=max_workers, progress=progress
        )
    folder = backfill_files_dir()
    pruned = prune_backfill_files(context.instance, folder)
    if pruned:
        context.log.info(f"removed the files of ended backfill(s): {', '.join(pruned)}")
    turn = ExitStack()
    try:
        turn.enter_context(
            warehouse_lock(
                folder / scope.backfill_id, exclusive=True, wait_seconds=LOCK_WAIT_SECONDS
            )
        )
    except WarehouseLockTimeout as exc:
        context.log.warning(f"{exc}; fetching this run's partitions without sharing")
        return fetch_intraday(
            client, partitions, interval, max_workers=max_workers, progress=progress
        )
    with turn:
        manifest = folder / f"{scope.backfill_id}-{interval}.json"
        return _fetch_shared(
            scope, manifest, client, warehouse, partitions, interval, max_workers, progress
        )


def _fetch_shared(
    scope: BackfillScope,
    manifest: Path,
    client: YahooClient,
    warehouse: WarehouseResource,
    partitions: Sequence[SymbolDay],
    interval: str,
    max_workers: int,
    progress: ProgressTracker | None = None,
) -> BatchResult:
    now = settings.now()
    listed = read_manifest(manifest)
    reused = stored_batch(warehouse, [p for p in partitions if p.key in listed], interval)
    if progress is not None and reused.outcomes:
        progress.window({k: o.rows for k, o in reused.outcomes.items()}, {}, 0, windows=0)
    to_fetch = [p for p in partitions if p.key not in reused.outcomes]
    if not to_fetch:
        return reused
    done = {(p.symbol, p.day) for p in parse_intraday_keys(listed)}
    extra = shared_window_days(
        [(p.symbol, p.day) for p in to_fetch], scope.days, done, interval, now
    )
    fetched = fetch_intraday(
        client,
        [*to_fetch, *(SymbolDay(s, d) for s, d in extra)],
        interval,
        max_workers=max_workers,
        now=now,
        progress=progress,
    )
    mine, others = split_batch(fetched, {p.key for p in partitions})
    final = sorted(k for k, o in others.outcomes.items() if o.error is None and o.final)
    if final:
        rows = others.frame[_row_keys(others.frame).isin(set(final))]
        warehouse.write(INTRADAY_PRICES, rows, {"fetched_at": pd.Timestamp(now)})
        write_manifest(manifest, listed | set(final))
    return merge_batches(mine, reused)


def read_manifest(path: Path) -> set[str]:
    """Partitions a backfill's earlier runs stored (final bars), by key."""
    if not path.exists():
        return set()
    return set(json.loads(path.read_text())["stored"])


def write_manifest(path: Path, keys: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"stored": sorted(keys)}))
    os.replace(partial, path)


def _row_keys(frame: pd.DataFrame) -> pd.Series:
    """Each row's partition key (``2026-11-27|AAPL``)."""
    days = frame["session_date"].map(date.isoformat)
    return (days + KEY_SEPARATOR + frame["symbol"].astype(str)).astype(str)


def split_batch(result: BatchResult, keys: set[str]) -> tuple[BatchResult, BatchResult]:
    """The batch's rows and outcomes of ``keys``, and the rest; requests stay with the first."""
    frame = result.frame
    inside = _row_keys(frame).isin(keys) if len(frame) else pd.Series(dtype=bool)
    mine = BatchResult(
        frame=frame[inside].reset_index(drop=True) if len(frame) else empty_intraday(),
        outcomes={k: o for k, o in result.outcomes.items() if k in keys},
        requests=result.requests,
    )
    others = BatchResult(
        frame=frame[~inside].reset_index(drop=True) if len(frame) else empty_intraday(),
        outcomes={k: o for k, o in result.outcomes.items() if k not in keys},
    )
    return mine, others


def merge_batches(first: BatchResult, second: BatchResult) -> BatchResult:
    frames = [f for f in (first.frame, second.frame) if not f.empty]
    return BatchResult(
        frame=pd.concat(frames, ignore_index=True) if frames else empty_intraday(),
        outcomes={**first.outcomes, **second.outcomes},
        requests=first.requests + second.requests,
    )


def stored_batch(
    warehouse: WarehouseResource, partitions: Sequence[SymbolDay], interval: str
) -> BatchResult:
    """Partitions whose stored rows are used as they are (no request); absent ones left out."""
    result = BatchResult(frame=empty_intraday())
    if not partitions or not warehouse.database.exists():
        return result
    wanted = [{"symbol": p.symbol, "interval": interval, "session_date": p.day} for p in partitions]
    with warehouse.connect(read_only=True) as con:
        rows = read_slices(con, INTRADAY_PRICES, wanted)
    if rows.empty:
        return result
    rows = rows.assign(session_date=pd.to_datetime(rows["session_date"]).dt.date)
    rows = rows[list(INTRADAY_COLUMNS)].astype(INTRADAY_COLUMNS)
    by_key = {str(key): part for key, part in rows.groupby(_row_keys(rows), sort=False)}
    for p in partitions:
        part = by_key.get(p.key)
        if part is None:
            continue
        result.outcomes[p.key] = PartitionOutcome(
            p.key,
            rows=len(part),
            expected=expected_bar_count(p.day, interval),
            requests=0,
            final=True,
            first_bar=str(part["ts"].min()),
            last_bar=str(part["ts"].max()),
        )
    result.frame = rows.reset_index(drop=True)
    return result
