"""Run requests over (symbol, day) and (symbol, year) partitions: few runs, nothing twice.

A Dagster run carries one key range per dimension, and ranges over the ``symbols``
dimension follow registration order. A set of partitions therefore becomes a few
rectangles (``cover_with_rectangles``), each one run tagged with its first and last key.
Schedules and sensors use this; sensors also skip partitions an unfinished run already
covers, so a slow run is not requested again on the next tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import dagster as dg

from stock_pipeline.domain.partition_keys import intraday_key, split_key
from stock_pipeline.domain.run_keys import (
    DAILY_OP,
    INTERVAL_TAG,
    INTRADAY_OP,
    ORIGIN_TAG,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    price_run_config,
)
from stock_pipeline.services.sync import RunSlice, slice_runs

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]

Column = TypeVar("Column", date, int)


def intraday_run_config(interval: str) -> dict[str, Any]:
    return price_run_config(INTRADAY_OP, interval)


def history_run_config(interval: str) -> dict[str, Any]:
    return price_run_config(DAILY_OP, interval)


def symbol_slices(order: Sequence[str], symbols: Iterable[str]) -> list[RunSlice]:
    """Ranges over the symbols dimension alone (the ``stocks`` asset)."""
    wanted = set(symbols)
    runs: list[list[str]] = []
    previous = False
    for symbol in order:
        if symbol in wanted:
            if not previous:
                runs.append([])
            runs[-1].append(symbol)
        previous = symbol in wanted
    return [RunSlice(run[0], run[-1], tuple(run)) for run in runs]


def run_request(
    run: RunSlice,
    run_key: str,
    origin: str,
    job_name: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    interval: str | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
) -> dg.RunRequest:
    tags = {**run.tags(), ORIGIN_TAG: origin}
    if interval:
        tags[INTERVAL_TAG] = interval
    return dg.RunRequest(
        run_key=f"{run_key}:{run.first_key}:{run.last_key}",
        job_name=job_name,
        run_config=dict(run_config or {}),
        tags=tags,
        asset_selection=list(asset_selection) if asset_selection else None,
    )


def _range_cells(
    tags: Mapping[str, str], order: Sequence[str], days: Sequence[date]
) -> set[tuple[str, date]]:
    """The (symbol, day) cells a run's partition tags cover, within ``days``."""
    if PARTITION_TAG in tags:
        first = last = tags[PARTITION_TAG]
    elif RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        first, last = tags[RANGE_START_TAG], tags[RANGE_END_TAG]
    else:
        return set()
    try:
        (d1, s1), (d2, s2) = (split_key(key) for key in (first, last))
        start, end = date.fromisoformat(d1), date.fromisoformat(d2)
    except ValueError:
        return set()  # not a (day, symbol) key: another asset's run
    pos = {s: i for i, s in enumerate(order)}
    if s1 not in pos or s2 not in pos:
        return set()  # a symbol removed since: its partitions are no longer wanted
    symbols = order[pos[s1] : pos[s2] + 1]
    return {(s, d) for s in symbols for d in days if start <= d <= end}


def unfinished_cells(
    instance: dg.DagsterInstance, order: Sequence[str], days: Sequence[date]
) -> set[tuple[str, date]]:
    """Intraday (symbol, day) cells that queued or running runs will fetch.

    Every job counts: schedules', sensors', the command line's and backfills launched from
    the UI (anonymous asset jobs); runs of other assets have keys that do not parse as
    (day, symbol) and cover nothing here.
    """
    cells: set[tuple[str, date]] = set()
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        cells |= _range_cells(record.dagster_run.tags, order, days)
    return cells


def intraday_slices(
    order: Sequence[str], days: Sequence[date], cells: Iterable[tuple[str, date]]
) -> list[RunSlice]:
    return slice_runs(list(cells), order, days, intraday_key)
