"""Quote answers: v7 ``quote`` (many symbols), v10 ``quoteSummary`` and fundamentals.

``yf.Ticker(sym).info`` calls quoteSummary (modules financialData, quoteType,
defaultKeyStatistics, assetProfile, summaryDetail), then v7 quote for the one symbol,
then fundamentals-timeseries for ``trailingPegRatio``; it flattens the modules into one
dict. The values agree with the chart data at the fake's ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stock_pipeline.fake_yahoo.clock import market_state, ny_date, ny_zone
from stock_pipeline.fake_yahoo.history import Market, Snapshot
from stock_pipeline.fake_yahoo.instruments import instrument_for
from stock_pipeline.fake_yahoo.market import session_table
from stock_pipeline.fake_yahoo.profiles import SymbolProfile, profile_for
from stock_pipeline.fake_yahoo.rng import hash_unit


def _shares(profile: SymbolProfile) -> int:
    return int(profile.volume_level * (80 + 400 * hash_unit(profile.seed, 21)))


def _common(
    market: Market, symbol: str, now_s: float
) -> tuple[SymbolProfile, Snapshot, dict[str, float]]:
    snap = market.snapshot(symbol, now_s)
    if snap is None:
        raise LookupError(symbol)
    return profile_for(symbol), snap, market.approximate_stats(symbol, now_s)


def quote_result(market: Market, symbol: str, now_s: float) -> dict[str, Any]:
    """One ``quoteResponse.result[]`` entry, keyed as in the recorded AAPL/BABA answer."""
    profile, snap, stats = _common(market, symbol, now_s)
    kind = instrument_for(symbol)
    tab = session_table()
    prev = snap.previous_close or snap.open
    change = snap.price - prev
    abbrev, offset = ny_zone(now_s)
    dividend_rate = round(snap.price * profile.dividend_yield, 2)
    shares = _shares(profile)
    high52, low52 = stats["fiftyTwoWeekHigh"], stats["fiftyTwoWeekLow"]
    return {
        "language": "en-US",
        "region": "US",
        "quoteType": kind.quote_type,
        "typeDisp": kind.quote_type.title(),
        "quoteSourceName": "Nasdaq Real Time Price",
        "triggerable": True,
        "customPriceAlertConfidence": "HIGH",
        "currency": kind.currency,
        "shortName": profile.long_name[:32],
        "longName": profile.long_name,
        "regularMarketChangePercent": round(change / prev * 100, 6),
        "regularMarketPrice": round(snap.price, 4),
        "hasPrePostMarketData": True,
        "firstTradeDateMilliseconds": int(tab.opens[market.first_session(symbol)]) * 1000,
        "priceHint": kind.price_hint,
        "regularMarketChange": round(change, 6),
        "regularMarketDayHigh": round(snap.high, 4),
        "regularMarketDayRange": f"{round(snap.low, 4)} - {round(snap.high, 4)}",
        "regularMarketDayLow": round(snap.low, 4),
        "regularMarketVolume": snap.volume,
        "regularMarketPreviousClose": round(prev, 4),
        "bid": round(snap.price - 0.01, 2),
        "ask": round(snap.price + 0.01, 2),
        "bidSize": 2,
        "askSize": 3,
        "fullExchangeName": kind.full_exchange_name,
        "financialCurrency": kind.currency,
        "regularMarketOpen": round(snap.open, 4),
        "averageDailyVolume3Month": int(stats["averageVolume"]),
        "averageDailyVolume10Day": int(stats["averageVolume"]),
        "fiftyTwoWeekLowChange": round(snap.price - low52, 4),
        "fiftyTwoWeekRange": f"{low52} - {high52}",
        "fiftyTwoWeekHighChange": round(snap.price - high52, 4),
        "fiftyTwoWeekLow": low52,
        "fiftyTwoWeekHigh": high52,
        "trailingAnnualDividendRate": dividend_rate,
        "dividendRate": dividend_rate,
        "dividendYield": round(profile.dividend_yield * 100, 2),
        "sharesOutstanding": shares,
        "fiftyDayAverage": stats["fiftyDayAverage"],
        "twoHundredDayAverage": stats["twoHundredDayAverage"],
        "marketCap": int(shares * snap.price),
        "sourceInterval": 15,
        "exchangeDataDelayedBy": 0,
        "tradeable": False,
        "cryptoTradeable": False,
        "corporateActions": [],
        "regularMarketTime": snap.market_time,
        "marketState": market_state(now_s),
        "exchange": kind.exchange,
        "messageBoardId": f"finmb_{profile.seed % 10_000_000}",
        "exchangeTimezoneName": kind.timezone,
        "exchangeTimezoneShortName": abbrev,
        "gmtOffSetMilliseconds": offset * 1000,
        "market": kind.market,
        "esgPopulated": False,
        "displayName": profile.long_name.split(" ")[0].rstrip(","),
        "symbol": symbol,
    }


def quote_response(market: Market, symbols: Iterable[str], now_s: float) -> dict[str, Any]:
    """``quoteResponse`` for the given (already filtered, known) symbols, in order."""
    results = []
    for symbol in symbols:
        try:
            results.append(quote_result(market, symbol, now_s))
        except LookupError:
            continue  # not listed yet at ``now``: Yahoo has no quote either
    return {"quoteResponse": {"result": results, "error": None}}


def quote_summary(
    market: Market, symbol: str, modules: Iterable[str], now_s: float
) -> dict[str, Any]:
    """``quoteSummary`` with the requested modules the fake knows (others are left out)."""
    profile, snap, stats = _common(market, symbol, now_s)
    kind = instrument_for(symbol)
    abbrev, offset = ny_zone(now_s)
    prev = snap.previous_close or snap.open
    shares = _shares(profile)
    first_open = int(session_table().opens[market.first_session(symbol)])
    split_note = {}
    splits = market.split_sessions(symbol)
    if splits:
        index, ev = splits[-1]
        split_note = {
            "lastSplitFactor": ev.split_ratio,
            "lastSplitDate": int(session_table().opens[min(index, len(session_table().opens) - 1)]),
        }
    profile_module = {
        "address1": f"{1 + profile.seed % 9000} Market Street",
        "city": "New York",
        "state": "NY",
        "zip": "10005",
        "country": "United States",
        "website": f"https://www.{profile.symbol.lower()}.example.com",
        "industry": profile.industry,
        "industryDisp": profile.industry,
        "sector": profile.sector,
        "sectorDisp": profile.sector,
        "longBusinessSummary": f"{profile.long_name} is a synthetic company served by the fake "
        f"Yahoo Finance server, in the {profile.industry.lower()} industry.",
        "fullTimeEmployees": 200 + profile.seed % 150_000,
        "maxAge": 86400,
    }
    available: dict[str, dict[str, Any]] = {
        "quoteType": {
            "exchange": kind.exchange,
            "quoteType": kind.quote_type,
            "symbol": symbol,
            "underlyingSymbol": symbol,
            "shortName": profile.long_name[:32],
            "longName": profile.long_name,
            "firstTradeDateEpochUtc": first_open,
            "timeZoneFullName": kind.timezone,
            "timeZoneShortName": abbrev,
            "uuid": f"{profile.seed:016x}"[:8] + "-fake-yahoo",
            "messageBoardId": f"finmb_{profile.seed % 10_000_000}",
            "gmtOffSetMilliseconds": offset * 1000,
            "maxAge": 1,
        },
        "assetProfile": {**profile_module, "companyOfficers": []},
        "summaryProfile": profile_module,
        "summaryDetail": {
            "maxAge": 1,
            "priceHint": 2,
            "previousClose": round(prev, 4),
            "open": round(snap.open, 4),
            "dayLow": round(snap.low, 4),
            "dayHigh": round(snap.high, 4),
            "regularMarketPreviousClose": round(prev, 4),
            "regularMarketOpen": round(snap.open, 4),
            "regularMarketDayLow": round(snap.low, 4),
            "regularMarketDayHigh": round(snap.high, 4),
            "dividendRate": round(snap.price * profile.dividend_yield, 2),
            "dividendYield": round(profile.dividend_yield, 4),
            "volume": snap.volume,
            "regularMarketVolume": snap.volume,
            "averageVolume": int(stats["averageVolume"]),
            "marketCap": int(shares * snap.price),
            "fiftyTwoWeekLow": stats["fiftyTwoWeekLow"],
            "fiftyTwoWeekHigh": stats["fiftyTwoWeekHigh"],
            "fiftyDayAverage": stats["fiftyDayAverage"],
            "twoHundredDayAverage": stats["twoHundredDayAverage"],
            "currency": kind.currency,
            "tradeable": False,
        },
        "financialData": {
            "maxAge": 86400,
            "currentPrice": round(snap.price, 4),
            "recommendationKey": "hold",
            "financialCurrency": "USD",
        },
        "defaultKeyStatistics": {
            "maxAge": 1,
            "sharesOutstanding": shares,
            "floatShares": int(shares * 0.9),
            **split_note,
        },
        "price": {
            "maxAge": 1,
            "regularMarketPrice": round(snap.price, 4),
            "regularMarketTime": snap.market_time,
            "regularMarketPreviousClose": round(prev, 4),
            "currency": kind.currency,
            "exchange": kind.exchange,
            "exchangeName": kind.full_exchange_name,
            "marketState": market_state(now_s),
            "quoteType": kind.quote_type,
            "symbol": symbol,
            "shortName": profile.long_name[:32],
            "longName": profile.long_name,
        },
    }
    chosen = {m: available[m] for m in modules if m in available}
    return {"quoteSummary": {"result": [chosen], "error": None}}


def quote_summary_not_found(symbol: str) -> dict[str, Any]:
    return {
        "quoteSummary": {
            "result": None,
            "error": {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"},
        }
    }


def timeseries(symbol: str, types: Iterable[str], now_s: float, known: bool) -> dict[str, Any]:
    """fundamentals-timeseries: one recent value per requested type (none if unknown)."""
    if not known:
        return {"timeseries": {"result": [], "error": None}}
    seed = profile_for(symbol).seed
    as_of = ny_date(now_s - 45 * 86_400).isoformat()
    results = []
    for i, name in enumerate(types):
        value = round(0.5 + 3 * hash_unit(seed, 31, i), 2)
        results.append(
            {
                "meta": {"symbol": [symbol], "type": [name]},
                "timestamp": [int(now_s) - 45 * 86_400],
                name: [
                    {
                        "dataId": 14000 + i,
                        "asOfDate": as_of,
                        "periodType": "TTM",
                        "reportedValue": {"raw": value, "fmt": f"{value:.2f}"},
                    }
                ],
            }
        )
    return {"timeseries": {"result": results, "error": None}}
