"""Settings of the fake Yahoo server and the records it keeps about requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# Symbols with scripted behaviour (see the package docstring).
RATE_LIMITED_SYMBOL = "ZZRATELIMIT"
SERVER_ERROR_SYMBOL = "ZZSERVERERROR"
BAD_JSON_SYMBOL = "ZZBADJSON"
EMPTY_SYMBOL = "ZZEMPTY"
FLAKY_SYMBOL = "ZZFLAKY"
SPECIAL_SYMBOLS = frozenset(
    {RATE_LIMITED_SYMBOL, SERVER_ERROR_SYMBOL, BAD_JSON_SYMBOL, EMPTY_SYMBOL, FLAKY_SYMBOL}
)
UNKNOWN_PREFIX = "ZZ"

# The fixed clock of the pytest fixtures: Wednesday 2026-11-25 16:30 New York, after the
# close; Thanksgiving follows and Friday 2026-11-27 is an early close.
DEFAULT_TEST_NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


@dataclass(frozen=True)
class SplitEvent:
    """A stock split effective at the open of ``day`` (moved to the next session if none)."""

    day: date
    numerator: int
    denominator: int = 1

    @property
    def ratio(self) -> float:
        return self.numerator / self.denominator

    @property
    def split_ratio(self) -> str:
        return f"{self.numerator}:{self.denominator}"


DEFAULT_SPLITS: Mapping[str, tuple[SplitEvent, ...]] = {
    "SPLT": (SplitEvent(date(2026, 6, 15), 4, 1),),
}


@dataclass
class FakeYahooConfig:
    """Behaviour of one fake server. ``now``, ``latency_seconds``, ``rate_limit_per_second``,
    ``unknown_symbols``, ``flaky_failures``, ``null_bar_every``, ``truncated_sessions``,
    ``require_crumb``, ``bad_prints`` and ``bad_print_factor`` may be changed while it runs
    (a bad print set after a sync is Yahoo correcting a past value, as the re-verification
    tests need); ``splits`` and ``minute_detail_since`` must be set before (closed
    sessions' daily bars are cached).

    ``now``: the fake's clock (a fixed UTC instant; ``None`` follows the real clock).
    ``latency_seconds``: sleep before answering each request.
    ``rate_limit_per_second``: answer 429 once more requests than this were accepted in
    the last second (``None``: unlimited).
    ``unknown_symbols``: extra symbols Yahoo "does not know" (any ``ZZ…`` symbol that is
    not a special one is unknown anyway).
    ``flaky_failures``: how many chart data requests for ``ZZFLAKY`` fail with 500 first.
    ``splits``: splits per symbol; prices before a split that is known at ``now`` are
    divided by its ratio, as Yahoo does.
    ``null_bar_every``: about one closed intraday bar of 5 minutes or less in N is all-null
    (0: never); longer bars always hold a trade.
    ``truncated_sessions``: per (symbol, session date), minutes at the end of that session
    whose intraday bars are absent from every answer, at every interval (Yahoo serving a
    short session; daily bars unchanged). ``{("AAPL", date(2026, 11, 24)): 60}``: the last
    hour's bars are missing.
    ``require_crumb``: v7 quote and quoteSummary answer 401 without a crumb we issued.
    ``minute_detail_since``: sessions before this date get daily bars from a cheap daily
    model instead of aggregated minutes (no intraday data is served that far back).
    ``bad_prints``: per symbol, sessions whose daily bar (and the weekly, monthly bars
    holding it) is served with every price times ``bad_print_factor``: Yahoo's 100× and
    unit errors. Intraday bars stay right.
    """

    now: datetime | None = None
    latency_seconds: float = 0.0
    rate_limit_per_second: float | None = None
    unknown_symbols: frozenset[str] = frozenset()
    flaky_failures: int = 2
    splits: Mapping[str, tuple[SplitEvent, ...]] = field(default_factory=lambda: DEFAULT_SPLITS)
    null_bar_every: int = 500
    truncated_sessions: Mapping[tuple[str, date], int] = field(default_factory=dict)
    require_crumb: bool = False
    minute_detail_since: date = date(2020, 1, 1)
    bad_prints: Mapping[str, tuple[date, ...]] = field(default_factory=dict)
    bad_print_factor: float = 100.0

    def __post_init__(self) -> None:
        self.unknown_symbols = frozenset(s.upper() for s in self.unknown_symbols)
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("FakeYahooConfig.now must be timezone-aware (UTC)")

    def now_epoch(self) -> float:
        return self.now.timestamp() if self.now is not None else time.time()

    def is_unknown(self, symbol: str) -> bool:
        sym = symbol.upper()
        if sym in SPECIAL_SYMBOLS:
            return False
        return sym.startswith(UNKNOWN_PREFIX) or sym in self.unknown_symbols

    @classmethod
    def from_settings(cls, **settings: Any) -> FakeYahooConfig:
        """Build from loose values as a command line gives them (strings, commas)."""
        values = {k: v for k, v in settings.items() if v is not None}
        now = values.get("now")
        if isinstance(now, str):
            parsed = datetime.fromisoformat(now.replace("Z", "+00:00"))
            values["now"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        unknown = values.get("unknown_symbols")
        if isinstance(unknown, str):
            values["unknown_symbols"] = frozenset(s for s in unknown.split(",") if s.strip())
        elif unknown is not None:
            values["unknown_symbols"] = frozenset(_as_iterable(unknown))
        for name in ("latency_seconds", "rate_limit_per_second"):
            if name in values:
                values[name] = float(values[name])
        for name in ("flaky_failures", "null_bar_every"):
            if name in values:
                values[name] = int(values[name])
        return cls(**values)


def _as_iterable(value: Any) -> Iterable[str]:
    return [str(v) for v in value]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    kind: str
    symbols: tuple[str, ...] = ()
    host: str | None = None  # X-Forwarded-Host: the Yahoo host the client meant


RecordingMatch = Callable[[Mapping[str, str]], bool] | Mapping[str, str] | None


@dataclass
class Recording:
    """A canned chart answer served instead of generated data when ``match`` accepts."""

    symbol: str
    body: bytes
    status: int
    content_type: str
    match: RecordingMatch
    remaining: int | None  # times left to serve; None: always

    def accepts(self, params: Mapping[str, str]) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(params))
        return all(params.get(k) == str(v) for k, v in self.match.items())
