"""Quarantining a symbol by hand, as the dead-symbols sensor would after repeated failures."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from stock_pipeline.services.quarantine import SymbolHealth, load_health, save_health


def quarantine_symbol(
    instance: dg.DagsterInstance, symbol: str, reason: str, now: datetime
) -> SymbolHealth:
    """Quarantine ``symbol`` at once, without waiting for failed runs."""
    health = load_health(instance)
    record = SymbolHealth(symbol, 0, reason, "", quarantined_at=now.isoformat())
    health[symbol] = record
    save_health(instance, health)
    return record
