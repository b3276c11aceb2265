"""The symbol universe: the ``symbols`` dynamic partitions (the seed's "active stocks")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from stock_pipeline.domain.errors import SymbolNotFoundError
from stock_pipeline.domain.partition_keys import SYMBOLS
from stock_pipeline.yahoo.client import YahooClient


@dataclass(frozen=True)
class AddResult:
    added: list[str]
    already: list[str]
    unknown: list[str]


def registered_symbols(instance: dg.DagsterInstance) -> list[str]:
    """Registered symbols in registration order (the order Dagster ranges follow)."""
    return list(instance.get_dynamic_partitions(SYMBOLS))


def verify_with_yahoo(client: YahooClient, symbols: Sequence[str]) -> list[str]:
    """The symbols Yahoo has no quote for (one request per few hundred symbols)."""
    quoted = set(client.current_prices(list(symbols))["symbol"])
    return [s for s in symbols if s not in quoted]


def add_symbols(
    instance: dg.DagsterInstance, symbols: Sequence[str], client: YahooClient | None
) -> AddResult:
    """Register symbols Yahoo knows; refuse the whole request if any is unknown."""
    current = set(registered_symbols(instance))
    new = [s for s in symbols if s not in current]
    unknown = verify_with_yahoo(client, new) if (client and new) else []
    if unknown:
        raise SymbolNotFoundError(
            ",".join(unknown),
            "Yahoo does not know these symbols (unknown or delisted); nothing was added. "
            "Check the tickers on finance.yahoo.com (e.g. BRK-B, not BRK.B)",
        )
    if new:
        instance.add_dynamic_partitions(SYMBOLS, new)
    return AddResult(added=new, already=[s for s in symbols if s in current], unknown=[])


def remove_symbols(instance: dg.DagsterInstance, symbols: Sequence[str]) -> list[str]:
    """Stop syncing symbols; their stored data is kept."""
    current = set(registered_symbols(instance))
    removed = [s for s in symbols if s in current]
    for symbol in removed:
        instance.delete_dynamic_partition(SYMBOLS, symbol)
    return removed
