"""A partition's failure as data: what went wrong, and what it means. No Dagster here.

A batch records each failed partition as a ``PartitionFailure``, made from the error
itself, so the facts that matter later travel with it as fields — whether trying again
can help (``transient``: rate limits, outages, timeouts) and whether it says the symbol
has no data at Yahoo (``no_data``: the quarantine counts those) — instead of being parsed
back out of a message. ``text`` is the one line people read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from stock_pipeline.domain.errors import StockPipelineError


@dataclass(frozen=True)
class PartitionFailure:
    kind: str  # the error's type, e.g. "RateLimitedError"
    message: str
    transient: bool = False  # a later retry can cure it
    no_data: bool = False  # Yahoo has nothing for the symbol (unknown, delisted, empty)
    expected: bool = True  # one of the project's own errors, not a bug

    @classmethod
    def from_error(cls, exc: BaseException) -> PartitionFailure:
        if isinstance(exc, StockPipelineError):
            return cls(type(exc).__name__, str(exc), exc.transient, exc.no_data)
        return cls(type(exc).__name__, str(exc), expected=False)

    @property
    def text(self) -> str:
        prefix = "" if self.expected else "unexpected "
        return f"{prefix}{self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PartitionFailure:
        return cls(
            kind=str(value["kind"]),
            message=str(value["message"]),
            transient=bool(value.get("transient", False)),
            no_data=bool(value.get("no_data", False)),
            expected=bool(value.get("expected", True)),
        )


def all_transient(failures: Iterable[PartitionFailure]) -> bool:
    """True when there is at least one failure and every one is transient."""
    found = list(failures)
    return bool(found) and all(f.transient for f in found)
