"""stock_pipeline: US stock prices from Yahoo Finance kept current in a DuckLake by Dagster.

``stock_pipeline.connect()`` opens the warehouse for a notebook (see docs/python-api.md);
it is imported on first use, so ``import stock_pipeline`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stock_pipeline.warehouse.reader import connect

__all__ = ["connect"]


def __getattr__(name: str) -> Any:
    if name == "connect":
        from stock_pipeline.warehouse.reader import connect

        return connect
    raise AttributeError(f"module 'stock_pipeline' has no attribute {name!r}")
