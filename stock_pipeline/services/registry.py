"""The symbol universe: the ``symbols`` dynamic partitions (the seed's "active stocks")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

from stock_pipeline.domain.errors import OutOfScopeError, SymbolNotFoundError
from stock_pipeline.domain.instruments import Instrument, refusals
from stock_pipeline.domain.partition_keys import SYMBOLS

if TYPE_CHECKING:  # yfinance and pandas: only `symbols add` needs them
    from stock_pipeline.yahoo.client import YahooClient


@dataclass(frozen=True)
class AddResult:
    added: list[str]
    already: list[str]
    unknown: list[str]


def registered_symbols(instance: dg.DagsterInstance) -> list[str]:
    """Registered symbols in registration order (the order Dagster ranges follow)."""
    return list(instance.get_dynamic_partitions(SYMBOLS))


def screen_with_yahoo(client: YahooClient, symbols: Sequence[str]) -> dict[str, Instrument]:
    """What Yahoo reports for each symbol, after refusing any it does not know or that does
    not trade NYSE sessions; one quote request per few hundred symbols.

    Raises SymbolNotFoundError or OutOfScopeError naming every offending symbol, so a
    caller registers all of them or none.
    """
    found = client.instruments(list(symbols))
    unknown = [s for s in symbols if s not in found]
    if unknown:
        raise SymbolNotFoundError(
            ",".join(unknown),
            "Yahoo does not know these symbols (unknown or delisted); nothing was added. "
            "Check the tickers on finance.yahoo.com (e.g. BRK-B, not BRK.B)",
        )
    refused = refusals(found[s] for s in symbols)
    if refused:
        raise OutOfScopeError(
            "\n".join(refused) + "\nNothing was added: partitions are NYSE sessions, so only "
            "US-listed equities, ETFs and NYSE-hours indices (e.g. ^GSPC) can be synced. "
            "Remove the symbols above and try again."
        )
    return found


def add_symbols(
    instance: dg.DagsterInstance, symbols: Sequence[str], client: YahooClient | None
) -> AddResult:
    """Register symbols Yahoo knows and that trade NYSE sessions; refuse the whole request
    if any is unknown or out of scope."""
    current = set(registered_symbols(instance))
    new = [s for s in symbols if s not in current]
    if client and new:
        screen_with_yahoo(client, new)
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
