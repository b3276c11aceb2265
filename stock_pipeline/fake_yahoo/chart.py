"""The v8 chart endpoint: parse a request like Yahoo, refuse it like Yahoo, answer like Yahoo.

Answers follow the recorded shapes (``stock_pipeline_tests/fixtures/yahoo``): ``meta``,
``timestamp`` (bar starts), ``indicators.quote[0]`` parallel arrays with ``null`` for an
all-null bar, ``adjclose`` for daily and longer, ``events`` when asked for and present.
Intraday answers carry Yahoo's quirks: a zero-volume 13:00 bar on early closes and, when
``period2`` is in the past, the "latest" bar appended after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from stock_pipeline.fake_yahoo.bars import Bars
from stock_pipeline.fake_yahoo.chart_request import (
    INTRADAY_MINUTES,
    VALID_RANGES,
    ChartError,
    ChartRequest,
    dumps,
)
from stock_pipeline.fake_yahoo.clock import (
    current_trading_period,
    day_number,
    ny_date,
    ny_zone,
    session_periods,
)
from stock_pipeline.fake_yahoo.history import Market, Snapshot
from stock_pipeline.fake_yahoo.instruments import instrument_for
from stock_pipeline.fake_yahoo.market import session_table
from stock_pipeline.fake_yahoo.profiles import profile_for


def check_listed(market: Market, req: ChartRequest) -> None:
    """Yahoo's 400 for a window that ends before the symbol's first trade."""
    first_open = int(session_table().opens[market.first_session(req.symbol)])
    if req.p2 <= first_open and not req.range:
        raise ChartError(
            400,
            "Bad Request",
            f"Data doesn't exist for startDate = {req.p1}, endDate = {req.p2}",
        )


def _bars(market: Market, req: ChartRequest, now_s: float) -> Bars:
    if req.intraday:
        return market.intraday(req.symbol, req.p1, req.p2, INTRADAY_MINUTES[req.interval], now_s)
    if req.interval == "1d":
        return market.daily(req.symbol, req.p1, req.p2, now_s)
    return market.periodic(req.symbol, req.p1, req.p2, req.interval, now_s)


def _meta(
    market: Market,
    req: ChartRequest,
    now_s: float,
    snap: Snapshot | None,
    trading: list[int] | None,
) -> dict[str, Any]:
    profile = profile_for(req.symbol)
    kind = instrument_for(req.symbol)
    tab = session_table()
    abbrev, offset = ny_zone(now_s)
    stats = market.approximate_stats(req.symbol, now_s)
    first = market.first_session(req.symbol)
    before = min(tab.latest_started(req.p1), tab.latest_started(now_s))
    previous = (
        float(market.daily_bars(req.symbol, np.array([before]), now_s).close[0])
        if before >= first
        else (snap.price if snap else 0.0)
    )
    meta: dict[str, Any] = {
        "currency": kind.currency,
        "symbol": req.symbol,
        "exchangeName": kind.exchange,
        "fullExchangeName": kind.full_exchange_name,
        "instrumentType": kind.quote_type,
        "firstTradeDate": int(tab.opens[first]),
        "regularMarketTime": snap.market_time if snap else int(tab.opens[first]),
        "hasPrePostMarketData": True,
        "gmtoffset": offset,
        "timezone": abbrev,
        "exchangeTimezoneName": kind.timezone,
        "regularMarketPrice": round(snap.price, 4) if snap else None,
        "fiftyTwoWeekHigh": stats["fiftyTwoWeekHigh"],
        "fiftyTwoWeekLow": stats["fiftyTwoWeekLow"],
        "regularMarketDayHigh": round(snap.high, 4) if snap else None,
        "regularMarketDayLow": round(snap.low, 4) if snap else None,
        "regularMarketVolume": snap.volume if snap else 0,
        "longName": profile.long_name,
        "shortName": profile.long_name[:32],
        "chartPreviousClose": round(previous, 4),
    }
    if req.intraday:
        meta["previousClose"] = (
            round(snap.previous_close, 4) if snap and snap.previous_close else None
        )
        meta["scale"] = 3
    meta["priceHint"] = kind.price_hint
    meta["currentTradingPeriod"] = current_trading_period(now_s)
    if trading:
        periods = [session_periods(s) for s in trading]
        if req.prepost:
            meta["tradingPeriods"] = {
                kind: [[p[kind]] for p in periods] for kind in ("pre", "regular", "post")
            }
        else:
            meta["tradingPeriods"] = [[p["regular"]] for p in periods]
    meta["dataGranularity"] = req.interval
    meta["range"] = req.range
    meta["validRanges"] = list(VALID_RANGES)
    return meta


def _trading_sessions(req: ChartRequest, now_s: float, extra: set[int]) -> list[int]:
    """Sessions whose periods an intraday answer lists: the window's days and any bar's."""
    tab = session_table()
    lo = tab.index_of_first_day_at_or_after(day_number(ny_date(max(req.p1, 0))))
    hi = tab.index_of_first_day_at_or_after(day_number(ny_date(min(req.p2, now_s))) + 1)
    latest = tab.latest_started(now_s)
    return sorted(set(range(lo, min(hi, latest + 1))) | extra)


def chart_body(market: Market, req: ChartRequest, now_s: float, *, empty: bool = False) -> bytes:
    """The full ``{"chart": {...}}`` answer for a parsed request, as JSON bytes."""
    snap = market.snapshot(req.symbol, now_s)
    bars = Bars.empty() if empty else _bars(market, req, now_s)
    if not len(bars):
        meta = _meta(market, req, now_s, snap, None)
        return dumps(
            {"chart": {"result": [{"meta": meta, "indicators": {"quote": [{}]}}], "error": None}}
        )
    ts, sessions, volume = bars.ts, bars.session, bars.volume
    prices = np.stack([bars.open, bars.high, bars.low, bars.close])
    null = bars.null
    if req.intraday:
        ts, prices, volume, sessions, null = _with_early_close_bars(
            req, now_s, ts, prices, volume, sessions, null
        )
        if req.range == "" and req.p2 < now_s and snap and snap.bar_time >= req.p2:
            ts = np.append(ts, snap.bar_time)
            prices = np.concatenate([prices, np.full((4, 1), snap.price)], axis=1)
            volume = np.append(volume, 0)
            sessions = np.append(sessions, snap.session)
            null = np.append(null, False)
    trading = _trading_sessions(req, now_s, set(sessions.tolist())) if req.intraday else None
    head = dumps(_meta(market, req, now_s, snap, trading)).decode()
    parts = ['{"chart":{"result":[{"meta":', head, ',"timestamp":', _ints_json(ts, None)]
    if not req.intraday:
        events = _events(market, req, now_s)
        if events:
            parts += [',"events":', dumps(events).decode()]
    parts.append(',"indicators":{"quote":[{')
    for i, name in enumerate(("open", "high", "low", "close")):
        parts += [f'"{name}":', _floats_json(prices[i], null), ","]
    parts += ['"volume":', _ints_json(volume, null), "}]"]
    if not req.intraday:
        adjclose = market.adjclose(req.symbol, bars, now_s)
        parts += [',"adjclose":[{"adjclose":', _floats_json(adjclose, None), "}]"]
    parts.append('}}],"error":null}}')
    return "".join(parts).encode()


def _floats_json(values: npt.NDArray[np.float64], null: npt.NDArray[np.bool_] | None) -> str:
    """A JSON array of floats, ``null`` where masked: each distinct value formatted once."""
    if not len(values):
        return "[]"
    unique, inverse = np.unique(values, return_inverse=True)
    texts = [repr(v) for v in unique.tolist()]
    if null is not None and null.any():
        texts.append("null")
        inverse = np.where(null, len(unique), inverse.reshape(-1))
    table = np.array(texts, dtype=object)
    return "[" + ",".join(table[inverse.reshape(-1)].tolist()) + "]"


def _ints_json(values: npt.NDArray[np.int64], null: npt.NDArray[np.bool_] | None) -> str:
    texts = list(map(str, values.tolist()))
    if null is not None and null.any():
        for i in np.flatnonzero(null).tolist():
            texts[i] = "null"
    return "[" + ",".join(texts) + "]"


def _with_early_close_bars(
    req: ChartRequest,
    now_s: float,
    ts: npt.NDArray[np.int64],
    prices: npt.NDArray[np.float64],
    volume: npt.NDArray[np.int64],
    sessions: npt.NDArray[np.int64],
    null: npt.NDArray[np.bool_],
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.bool_],
]:
    """Yahoo's zero-volume bar at 13:00 after each closed early-close session."""
    tab = session_table()
    last = np.flatnonzero(np.r_[sessions[1:] != sessions[:-1], True])
    at: list[int] = []
    values: list[float] = []
    stamps: list[int] = []
    for pos in last.tolist():
        s = int(sessions[pos])
        close_s = int(tab.closes[s])
        if (
            close_s - int(tab.opens[s]) < 390 * 60
            and close_s <= now_s
            and req.p1 <= close_s < req.p2
        ):
            closes = prices[3, : pos + 1]
            closes = closes[~np.isnan(closes) & ~null[: pos + 1]]
            at.append(pos + 1)
            values.append(float(closes[-1]) if len(closes) else float("nan"))
            stamps.append(close_s)
    if not at:
        return ts, prices, volume, sessions, null
    return (
        np.insert(ts, at, stamps),
        np.insert(prices, at, np.array(values), axis=1),
        np.insert(volume, at, 0),
        np.insert(sessions, at, sessions[np.array(at) - 1]),
        np.insert(null, at, False),
    )


def _events(market: Market, req: ChartRequest, now_s: float) -> dict[str, Any]:
    tab = session_table()
    events: dict[str, Any] = {}
    lo, hi = tab.first_open_at_or_after(req.p1), tab.first_open_at_or_after(req.p2)
    if "div" in req.events:
        dividends = market.dividends(req.symbol, lo, hi, now_s)
        if dividends:
            events["dividends"] = {str(d.ts): {"amount": d.amount, "date": d.ts} for d in dividends}
    if "split" in req.events:
        splits = {}
        for index, ev in market.split_sessions(req.symbol):
            opened = int(tab.opens[index])
            if req.p1 <= opened < req.p2 and opened <= now_s:
                splits[str(opened)] = {
                    "date": opened,
                    "numerator": ev.numerator,
                    "denominator": ev.denominator,
                    "splitRatio": ev.split_ratio,
                }
        if splits:
            events["splits"] = splits
    return events
