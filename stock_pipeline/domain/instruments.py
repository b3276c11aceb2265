"""Which instruments fit the NYSE-session partitions, judged from Yahoo's own quote.

Every partition is an NYSE session, so an instrument that trades other hours (currencies,
crypto, futures, foreign listings) would be stored partially and judged complete anyway.
The rule reads what Yahoo reports in its v7 quote: the instrument type and the exchange's
time zone; nothing here guesses from the symbol's spelling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NYSE_TIMEZONE = "America/New_York"
# quoteType values that trade NYSE hours when listed in New York.
ACCEPTED_TYPES = frozenset({"EQUITY", "ETF", "INDEX"})
_WHY_NOT: dict[str, str] = {
    "CURRENCY": "currencies trade around the clock five days a week, not NYSE sessions",
    "CRYPTOCURRENCY": "crypto trades around the clock seven days a week, not NYSE sessions",
    "FUTURE": "futures trade almost around the clock on their exchange's own sessions",
    "OPTION": "options expire and trade on their own calendar",
    "MUTUALFUND": "mutual funds are priced once a day after the close and have no intraday bars",
}


@dataclass(frozen=True)
class Instrument:
    """What Yahoo's quote says about a symbol: the facts the scope rule and ``stocks`` use."""

    symbol: str
    quote_type: str | None
    exchange: str | None
    timezone: str | None
    currency: str | None
    price_hint: int | None

    @classmethod
    def from_quote(cls, quote: Mapping[str, Any]) -> Instrument:
        hint = quote.get("priceHint")
        return cls(
            symbol=str(quote["symbol"]),
            quote_type=quote.get("quoteType"),
            exchange=quote.get("exchange"),
            timezone=quote.get("exchangeTimezoneName"),
            currency=quote.get("currency"),
            price_hint=int(hint) if isinstance(hint, int | float) else None,
        )

    def described(self) -> str:
        return (
            f"exchange {self.exchange or '?'}, timezone {self.timezone or '?'}, "
            f"quoteType {self.quote_type or '?'}, currency {self.currency or '?'}"
        )


def refusal(instrument: Instrument) -> str | None:
    """Why the instrument does not fit NYSE-session partitions, or None when it does."""
    kind = (instrument.quote_type or "").upper()
    if kind not in ACCEPTED_TYPES:
        reason = _WHY_NOT.get(
            kind, f"type {kind or 'unknown'} is not a US equity, ETF or NYSE-hours index"
        )
    elif instrument.timezone != NYSE_TIMEZONE:
        reason = (
            f"it is listed on {instrument.exchange or 'an exchange'} in "
            f"{instrument.timezone or 'an unknown time zone'}, whose sessions are not NYSE's"
        )
    else:
        return None
    return f"{instrument.symbol}: Yahoo reports {instrument.described()}; refused: {reason}"


def refusals(instruments: Iterable[Instrument]) -> list[str]:
    """One line per instrument outside the NYSE-session scope, in the given order."""
    return [line for line in map(refusal, instruments) if line is not None]


DEFAULT_PRICE_HINT = 2


def round_price(value: float, price_hint: int | None) -> float:
    """A price at Yahoo's ``priceHint`` decimals (2 when Yahoo gives none)."""
    return round(value, DEFAULT_PRICE_HINT if price_hint is None else price_hint)
