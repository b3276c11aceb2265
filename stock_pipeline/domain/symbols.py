"""Ticker symbols: Yahoo's alphabet, checked before a symbol becomes a partition or SQL."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stock_pipeline.domain.errors import InvalidSymbolError

MAX_SYMBOL_LENGTH = 12
# Letters and digits, with the punctuation Yahoo uses: BRK-B, BF.B, ^GSPC, EURUSD=X.
_SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]*(=[A-Z])?$")


def normalize_symbol(value: str) -> str:
    """The upper-case symbol, or an error saying what is wrong with it."""
    symbol = value.strip().upper()
    if not symbol:
        raise InvalidSymbolError("empty symbol: give a ticker such as AAPL")
    if len(symbol) > MAX_SYMBOL_LENGTH:
        raise InvalidSymbolError(
            f"symbol {value!r} is {len(symbol)} characters long; Yahoo symbols have at most "
            f"{MAX_SYMBOL_LENGTH}"
        )
    if not _SYMBOL_RE.match(symbol):
        raise InvalidSymbolError(
            f"symbol {value!r} has characters Yahoo does not use: letters, digits, '.', '-', "
            f"a leading '^' (indices) and a trailing '=X' style suffix are allowed"
        )
    return symbol


def parse_symbols(values: str | Iterable[str]) -> list[str]:
    """Symbols from 'AAPL,msft' or a list, validated, upper-cased, de-duplicated in order."""
    items = values.split(",") if isinstance(values, str) else list(values)
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(values, str) and not item.strip():
            continue
        seen.setdefault(normalize_symbol(item), None)
    if not seen:
        raise InvalidSymbolError("no symbols given: pass e.g. --symbols AAPL,MSFT")
    return list(seen)
