"""Refreshing corporate actions: one chart request per symbol, merged into the warehouse.

A refresh asks Yahoo for every event a symbol has had (``YahooClient.corporate_actions``),
puts dividends back to the cash paid then, stores new events with the time their answer
arrived, and records that the symbol's splits are known up to that time. Price fetches
call ``ensure_splits_known`` first, so an answer is never unadjusted with a split missing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from stock_pipeline.domain.corporate_actions import as_paid, frame_events, splits_stale
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.warehouse.actions import checked_at, mark_checked, merge_actions, stored_splits
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.legacy import rebase_legacy
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.client import YahooClient

log = logging.getLogger(__name__)
Answer = tuple[pd.DataFrame, datetime]  # events as Yahoo stated them, when they arrived


@dataclass
class ActionsRefresh:
    """What a refresh did: symbols refreshed, events new to the warehouse, failures."""

    refreshed: list[str] = field(default_factory=list)
    new_events: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)


def refresh_actions(
    client: YahooClient, database: Lake, symbols: Sequence[str], max_workers: int = 4
) -> ActionsRefresh:
    """Fetch and store every event of ``symbols``; one failed symbol never loses the rest."""

    def run(symbol: str) -> tuple[str, Answer | None, str | None, Counter[str]]:
        with client.meter() as meter:
            try:
                return symbol, client.corporate_actions(symbol), None, meter.counts
            except StockPipelineError as exc:
                log.warning("corporate actions of %s failed: %s", symbol, exc)
                return symbol, None, f"{type(exc).__name__}: {exc}", meter.counts

    result = ActionsRefresh()
    answers: list[tuple[str, pd.DataFrame, datetime]] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for symbol, answer, error, counts in pool.map(run, list(dict.fromkeys(symbols))):
            result.requests.update(counts)
            if answer is None:
                result.failed[symbol] = error or "no answer"
            else:
                answers.append((symbol, *answer))
    if not answers:
        return result
    with connect(database) as con:
        splits = stored_splits(con, [s for s, _, _ in answers])
        for symbol, events, arrived in answers:
            result.new_events += merge_actions(con, as_paid(events, splits[symbol]), arrived)
            mark_checked(con, [symbol], arrived)
            rebase_legacy(con, symbol)  # rows of a file written before raw storage
            result.refreshed.append(symbol)
    return result


def known_splits(database: Lake, symbols: Sequence[str]) -> dict[str, list[tuple[date, float]]]:
    """Every stored split of each symbol (call ``ensure_splits_known`` first)."""
    with connect(database) as con:
        return stored_splits(con, symbols)


def ensure_splits_known(
    client: YahooClient, database: Lake, symbols: Sequence[str], now: datetime, max_workers: int = 4
) -> ActionsRefresh:
    """Refresh the symbols whose events were last checked before the latest session opened
    (a split takes effect at an open): after this, every split up to ``now`` is stored."""
    with connect(database) as con:
        checked = checked_at(con, symbols)
    stale = [s for s in symbols if splits_stale(checked.get(s), now)]
    if not stale:
        return ActionsRefresh()
    return refresh_actions(client, database, stale, max_workers)


def store_answer_events(database: Lake, frame: pd.DataFrame, arrived: datetime) -> int:
    """Keep the splits and dividends a daily price answer carried (no extra request).

    Call after ``ensure_splits_known``: the dividends are put back to the cash paid with
    every split stored. Returns how many events were new.
    """
    if frame.empty:
        return 0
    per_symbol = [frame_events(str(s), rows) for s, rows in frame.groupby("symbol", sort=True)]
    events = [e for e in per_symbol if not e.empty]
    if not events:
        return 0
    new = 0
    with connect(database) as con:
        for found in events:
            new += merge_actions(con, found, arrived)
    return new
