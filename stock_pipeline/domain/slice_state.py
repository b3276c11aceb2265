"""What is stored of one (symbol, session) at one interval: missing, provisional, short or
complete; and how a short session is fetched again a bounded number of times.

- missing: no bar stored.
- provisional: the answer arrived before the close plus the grace period (settings:
  ``STOCK_PIPELINE_FINAL_GRACE_MINUTES``): the bars may still change.
- short: final, but fewer bars than the calendar allows beyond Yahoo's dropped no-trade
  bars (``session_rules.fewest_final_bars``, the BAR_COUNT check's rule). Syncs without
  ``--force`` and the missing-partitions sensor fetch it again.
- short_confirmed: short after the first final fetch and ``refetches`` more (default 2,
  ``STOCK_PIPELINE_SHORT_SESSION_REFETCHES``): Yahoo's answer is what it has; it is not
  fetched again (a forced sync still may).
- complete: final with the bars the calendar allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MISSING = "missing"
PROVISIONAL = "provisional"
SHORT = "short"
SHORT_CONFIRMED = "short_confirmed"
COMPLETE = "complete"


@dataclass(frozen=True)
class SliceState:
    symbol: str
    day: date
    rows: int
    expected: int
    final: bool  # the answer arrived at or after the close plus the grace period
    fewest: int | None = None  # fewest bars of a final session not short (None: expected)
    fetches: int = 0  # final fetches that came back short (the short_sessions table)
    confirmed: bool = False  # short after the bounded re-fetches: accepted as it is

    @property
    def short(self) -> bool:
        fewest = self.expected if self.fewest is None else self.fewest
        return self.rows > 0 and self.final and self.rows < fewest

    @property
    def status(self) -> str:
        if self.rows == 0:
            return MISSING
        if not self.final:
            return PROVISIONAL
        if self.short:
            return SHORT_CONFIRMED if self.confirmed else SHORT
        return COMPLETE

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE

    @property
    def settled(self) -> bool:
        """Nothing more to fetch without ``--force``: complete, or short and confirmed."""
        return self.status in (COMPLETE, SHORT_CONFIRMED)


def short_fetch_outcome(earlier_fetches: int, refetches: int) -> tuple[int, bool]:
    """A final fetch that came back short: how many short fetches there have been now, and
    whether that confirms the session as short (the first fetch and ``refetches`` more)."""
    fetches = earlier_fetches + 1
    return fetches, fetches > refetches
