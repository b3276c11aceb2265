"""Symbols: Yahoo's spellings accepted, anything else refused before it reaches SQL."""

import pytest

from stock_pipeline.domain.errors import InvalidSymbolError
from stock_pipeline.domain.symbols import normalize_symbol, parse_symbols


@pytest.mark.parametrize("good", ["aapl", "BRK-B", "BF.B", "^GSPC", "EURUSD=X", "0700.HK"])
def test_yahoo_symbols_are_accepted(good: str) -> None:
    assert normalize_symbol(good) == good.upper()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("AAPL;DROP TABLE", "characters"),
        ("A" * 13, "at most 12"),
        ("  ", "empty"),
        ("$TSLA", "characters"),
        ("A'B", "characters"),
    ],
)
def test_bad_symbols_are_refused_before_sql(bad: str, reason: str) -> None:
    with pytest.raises(InvalidSymbolError, match=reason):
        normalize_symbol(bad)


def test_parse_symbols_dedupes_in_order() -> None:
    assert parse_symbols("msft, aapl,MSFT,,") == ["MSFT", "AAPL"]
    with pytest.raises(InvalidSymbolError, match="no symbols"):
        parse_symbols(" , ")
