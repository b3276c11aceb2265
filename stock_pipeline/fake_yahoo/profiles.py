"""Per-symbol traits (name, sector, price level, volatility, dividends), from a stable hash.

A few well-known symbols get their real names and plausible prices; any other symbol gets
synthesised ones, so every symbol Yahoo might be asked about has a consistent identity.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stock_pipeline.fake_yahoo.rng import FloatArray, hash_unit, stable_hash

SECONDS_PER_DAY = 86_400
_REFERENCE_DAY = 20_000  # 2024-10-04: where the trend term is zero

# Names, sectors and plausible prices for well-known symbols; others are synthesised.
_KNOWN: dict[str, tuple[str, str, str, str, float]] = {
    "AAPL": ("Apple Inc.", "Technology", "Consumer Electronics", "NMS", 190.0),
    "MSFT": ("Microsoft Corporation", "Technology", "Software - Infrastructure", "NMS", 380.0),
    "NVDA": ("NVIDIA Corporation", "Technology", "Semiconductors", "NMS", 120.0),
    "AMZN": ("Amazon.com, Inc.", "Consumer Cyclical", "Internet Retail", "NMS", 170.0),
    "GOOGL": (
        "Alphabet Inc.",
        "Communication Services",
        "Internet Content & Information",
        "NMS",
        150.0,
    ),
    "META": (
        "Meta Platforms, Inc.",
        "Communication Services",
        "Internet Content & Information",
        "NMS",
        450.0,
    ),
    "TSLA": ("Tesla, Inc.", "Consumer Cyclical", "Auto Manufacturers", "NMS", 240.0),
    "BABA": ("Alibaba Group Holding Limited", "Consumer Cyclical", "Internet Retail", "NYQ", 95.0),
    "JPM": ("JPMorgan Chase & Co.", "Financial Services", "Banks - Diversified", "NYQ", 190.0),
    "XOM": ("Exxon Mobil Corporation", "Energy", "Oil & Gas Integrated", "NYQ", 110.0),
    "KO": ("The Coca-Cola Company", "Consumer Defensive", "Beverages - Non-Alcoholic", "NYQ", 62.0),
    "IBM": (
        "International Business Machines Corporation",
        "Technology",
        "Information Technology Services",
        "NYQ",
        180.0,
    ),
    "SPLT": (
        "Splitco Industries, Inc.",
        "Industrials",
        "Specialty Industrial Machinery",
        "NYQ",
        60.0,
    ),
}
_SECTORS: tuple[tuple[str, str], ...] = (
    ("Technology", "Software - Application"),
    ("Healthcare", "Biotechnology"),
    ("Financial Services", "Banks - Regional"),
    ("Industrials", "Aerospace & Defense"),
    ("Consumer Cyclical", "Specialty Retail"),
    ("Consumer Defensive", "Packaged Foods"),
    ("Energy", "Oil & Gas E&P"),
    ("Utilities", "Utilities - Regulated Electric"),
    ("Real Estate", "REIT - Industrial"),
    ("Basic Materials", "Specialty Chemicals"),
    ("Communication Services", "Telecom Services"),
)
_SUFFIXES = ("Holdings, Inc.", "Corporation", "Group plc", "Technologies Inc.", "Industries Co.")
EXCHANGES = {"NMS": "NasdaqGS", "NYQ": "NYSE"}


@dataclass(frozen=True)
class SymbolProfile:
    """Everything about a symbol that does not depend on time."""

    symbol: str
    seed: int
    base_price: float  # level at the reference day, on today's share basis
    daily_vol: float  # typical daily return volatility
    growth: float  # log-drift per year
    wave_amp: tuple[float, float, float]
    wave_period: tuple[float, float, float]  # days
    wave_phase: tuple[float, float, float]
    volume_level: float  # typical shares per full session
    dividend_yield: float  # annual; 0 for non-payers
    dividend_month: int  # first ex-dividend month (1..3); then every 3 months
    dividend_day: int
    first_trade_day: int  # days since epoch; the first session on or after it trades
    long_name: str
    sector: str
    industry: str
    exchange: str  # Yahoo code: NMS or NYQ

    @property
    def full_exchange_name(self) -> str:
        return EXCHANGES[self.exchange]

    def level(self, epoch_s: FloatArray) -> FloatArray:
        """The smooth, non-cumulative price level around which sessions are drawn."""
        t = epoch_s / SECONDS_PER_DAY
        log_level = math.log(self.base_price) + self.growth * (t - _REFERENCE_DAY) / 365.25
        for amp, period, phase in zip(
            self.wave_amp, self.wave_period, self.wave_phase, strict=True
        ):
            log_level = log_level + amp * np.sin(2 * math.pi * t / period + phase)
        return np.asarray(np.exp(log_level), dtype=np.float64)


@functools.lru_cache(maxsize=20_000)
def profile_for(symbol: str) -> SymbolProfile:
    """The symbol's fixed traits, derived from a stable hash of its name."""
    sym = symbol.upper()
    seed = stable_hash(sym)
    u = [hash_unit(seed, 101, i) for i in range(16)]
    known = _KNOWN.get(sym)
    if known:
        long_name, sector, industry, exchange, base = known
    else:
        sector, industry = _SECTORS[int(u[0] * len(_SECTORS))]
        long_name = f"{sym.title()} {_SUFFIXES[int(u[1] * len(_SUFFIXES))]}"
        exchange = "NMS" if u[2] < 0.55 else "NYQ"
        base = math.exp(math.log(5.0) + u[3] * (math.log(800.0) - math.log(5.0)))
    pays = sym in {"AAPL", "MSFT", "JPM", "XOM", "KO", "IBM"} or (not known and u[4] < 0.45)
    return SymbolProfile(
        symbol=sym,
        seed=seed,
        base_price=base,
        daily_vol=0.008 + 0.022 * u[5],
        growth=-0.01 + 0.07 * u[6],
        wave_amp=(0.15 + 0.25 * u[7], 0.05 + 0.1 * u[8], 0.01 + 0.03 * u[9]),
        wave_period=(1200.0 + 1800.0 * u[10], 150.0 + 250.0 * u[11], 15.0 + 25.0 * u[12]),
        wave_phase=(2 * math.pi * u[13], 2 * math.pi * u[14], 2 * math.pi * u[15]),
        volume_level=math.exp(math.log(3e5) + hash_unit(seed, 7) * (math.log(6e7) - math.log(3e5))),
        dividend_yield=(0.006 + 0.03 * hash_unit(seed, 8)) if pays else 0.0,
        dividend_month=1 + int(hash_unit(seed, 9) * 3),
        dividend_day=3 + int(hash_unit(seed, 10) * 22),
        # Listed between 1993 and 2016 (days since epoch 8400..16800).
        first_trade_day=8_400 + int(hash_unit(seed, 11) * 8_400),
        long_name=long_name,
        sector=sector,
        industry=industry,
        exchange=exchange,
    )


def row_levels(profiles: Sequence[SymbolProfile], epoch_s: FloatArray) -> FloatArray:
    """``SymbolProfile.level`` for many (profile, instant) rows at once."""
    if not len(profiles):
        return np.zeros(0)
    t = epoch_s / SECONDS_PER_DAY
    base = np.log([p.base_price for p in profiles])
    growth = np.array([p.growth for p in profiles])
    amp = np.array([p.wave_amp for p in profiles])
    period = np.array([p.wave_period for p in profiles])
    phase = np.array([p.wave_phase for p in profiles])
    waves = (amp * np.sin(2 * math.pi * t[:, None] / period + phase)).sum(axis=1)
    return np.asarray(np.exp(base + growth * (t - _REFERENCE_DAY) / 365.25 + waves))
