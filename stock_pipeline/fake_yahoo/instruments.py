"""What kind of instrument a symbol is, as Yahoo's quote reports it (type, exchange, zone).

Yahoo spells instrument kinds into its symbols: ``EURUSD=X`` currencies, ``BTC-USD``
crypto, ``CL=F`` futures, ``^GSPC`` indices, ``VOD.L`` foreign listings. The fake derives
the fields its quote and chart answers report from that spelling; prices stay on the
NYSE calendar whatever the kind (the pipeline refuses the others before fetching any).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from stock_pipeline.fake_yahoo.clock import EXCHANGE_TIMEZONE
from stock_pipeline.fake_yahoo.profiles import profile_for


@dataclass(frozen=True)
class InstrumentKind:
    quote_type: str
    exchange: str  # Yahoo's code (NMS, NYQ, LSE, CCY …)
    full_exchange_name: str
    timezone: str
    currency: str
    price_hint: int
    market: str


ETFS = frozenset({"SPY", "QQQ", "IWM", "VTI", "DIA"})
CRYPTO_QUOTES = frozenset({"USD", "EUR", "GBP"})
# Yahoo suffix → (exchange code, exchange name, time zone, currency, market)
FOREIGN: dict[str, tuple[str, str, str, str, str]] = {
    "L": ("LSE", "LSE", "Europe/London", "GBp", "gb_market"),
    "TO": ("TOR", "Toronto", "America/Toronto", "CAD", "ca_market"),
    "DE": ("GER", "XETRA", "Europe/Berlin", "EUR", "de_market"),
    "PA": ("PAR", "Paris", "Europe/Paris", "EUR", "fr_market"),
    "HK": ("HKG", "HKSE", "Asia/Hong_Kong", "HKD", "hk_market"),
    "T": ("JPX", "Tokyo", "Asia/Tokyo", "JPY", "jp_market"),
}


@functools.lru_cache(maxsize=20_000)
def instrument_for(symbol: str) -> InstrumentKind:
    """The instrument kind Yahoo would report for ``symbol``."""
    sym = symbol.upper()
    if sym.endswith("=X"):
        pair = sym.removesuffix("=X")
        currency = pair[3:6] if len(pair) == 6 else pair[:3]
        return InstrumentKind("CURRENCY", "CCY", "CCY", "Europe/London", currency, 4, "ccy_market")
    if sym.endswith("=F"):
        return InstrumentKind(
            "FUTURE", "NYM", "NY Mercantile", EXCHANGE_TIMEZONE, "USD", 2, "us24_market"
        )
    if "-" in sym and sym.rsplit("-", 1)[1] in CRYPTO_QUOTES:
        quote = sym.rsplit("-", 1)[1]
        return InstrumentKind("CRYPTOCURRENCY", "CCC", "CCC", "UTC", quote, 2, "ccc_market")
    if sym.startswith("^"):
        return InstrumentKind("INDEX", "SNP", "SNP", EXCHANGE_TIMEZONE, "USD", 2, "us_market")
    if "." in sym and sym.rsplit(".", 1)[1] in FOREIGN:
        code, name, zone, currency, market = FOREIGN[sym.rsplit(".", 1)[1]]
        return InstrumentKind("EQUITY", code, name, zone, currency, 2, market)
    if sym in ETFS:
        return InstrumentKind("ETF", "PCX", "NYSEArca", EXCHANGE_TIMEZONE, "USD", 2, "us_market")
    profile = profile_for(sym)
    return InstrumentKind(
        "EQUITY",
        profile.exchange,
        profile.full_exchange_name,
        EXCHANGE_TIMEZONE,
        "USD",
        2,
        "us_market",
    )
