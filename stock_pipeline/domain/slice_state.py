"""What is stored of one (symbol, session) at one interval: missing, provisional or complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SliceState:
    symbol: str
    day: date
    rows: int
    expected: int
    final: bool  # fetched after the close

    @property
    def complete(self) -> bool:
        return self.rows > 0 and self.final

    @property
    def status(self) -> str:
        if self.rows == 0:
            return "missing"
        return "complete" if self.final else "provisional"
