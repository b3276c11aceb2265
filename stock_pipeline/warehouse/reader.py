"""The warehouse for people: a read-only DuckDB connection with the lake attached.

A notebook holding this connection (and a transaction) for hours never delays a sync: it
reads one DuckLake snapshot while writers commit newer ones. ``as_of`` reads the
warehouse as it was at a past instant, while that snapshot is kept (see
``stock_pipeline.warehouse.maintenance``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from stock_pipeline import settings
from stock_pipeline.warehouse.lake import Lake, open_connection


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; without a zone it is UTC (a clear error if it is not one)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 instant; write e.g. 2026-11-24T21:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def connect(
    warehouse: str | Path | None = None,
    *,
    as_of: datetime | str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A new read-only connection to the warehouse (close it when done).

    ``warehouse``: an embedded lake's directory or ``postgres:<conninfo>``; unset, the one
    ``$STOCK_PIPELINE_WAREHOUSE`` names (``data/warehouse``). ``as_of``: an instant
    (``datetime`` or ISO text): every table as the last snapshot before it held it.
    The tables are the default schema: ``con.sql("SELECT * FROM daily_prices").df()``.
    """
    lake = Lake.at(warehouse, settings.warehouse_data_path()) if warehouse else None
    moment = parse_instant(as_of) if isinstance(as_of, str) else as_of
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return open_connection(lake or Lake.from_settings(), read_only=True, as_of=moment)
