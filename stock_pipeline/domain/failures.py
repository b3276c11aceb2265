"""Whether a recorded failure reason is worth retrying later. No Dagster here.

A batch records each failed partition as ``"ErrorType: reason"``; the type says whether
trying again can help (``StockPipelineError.transient``: rate limits, outages, timeouts).
"""

from __future__ import annotations

from collections.abc import Iterable

from stock_pipeline.domain.errors import StockPipelineError


def _error_classes(root: type[StockPipelineError]) -> Iterable[type[StockPipelineError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _error_classes(sub)


def transient_error_names() -> frozenset[str]:
    """Names of the project's error types that a later retry can cure."""
    return frozenset(c.__name__ for c in _error_classes(StockPipelineError) if c.transient)


def is_transient_reason(reason: str) -> bool:
    """True for ``"RateLimitedError: ..."``-style reasons of a transient error type."""
    name, sep, _ = reason.partition(":")
    return bool(sep) and name.strip() in transient_error_names()


def all_transient(reasons: Iterable[str]) -> bool:
    """True when there is at least one reason and every one is transient."""
    found = list(reasons)
    return bool(found) and all(is_transient_reason(r) for r in found)
