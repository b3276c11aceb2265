"""F2: how long the fake Yahoo takes to answer a 60-day 5m chart request.

Its own cost must not dominate any benchmark: measured in-process (bars + JSON, what each
answer costs the server) and over HTTP from a plain client (one connection, no yfinance).
The fake's generation of B3's bars is F1, reported by B3.
"""

from __future__ import annotations

import http.client
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from bench import NOW
from bench.fake import fake_yahoo
from bench.harness import Result, main_for, symbols
from stock_pipeline.domain.planning import window_bounds
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.fake_yahoo.chart import chart_body
from stock_pipeline.fake_yahoo.chart_request import parse_request


@dataclass(frozen=True)
class Params:
    symbols: int = 100
    days: int = 40  # sessions: the widest 5m window Yahoo serves (60 calendar days)


FULL = Params()
SMOKE = Params(symbols=3, days=3)


def chart_params(days: int) -> dict[str, str]:
    sessions = sessions_back(latest_session(NOW), days)
    start, end = window_bounds(sessions[0], sessions[-1])
    return {
        "period1": str(int(start.timestamp())),
        "period2": str(int(end.timestamp())),
        "interval": "5m",
        "includePrePost": "false",
        "events": "div,splits,capitalGains",
    }


def run(params: Params) -> list[Result]:
    query = chart_params(params.days)
    syms = symbols(params.symbols)
    with fake_yahoo() as fake:
        in_process = []
        for symbol in syms:
            start = time.perf_counter()
            now_s = NOW.timestamp()
            body = chart_body(fake.market, parse_request(symbol, query, now_s), now_s)
            in_process.append(time.perf_counter() - start)
        url = urlsplit(fake.url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
        over_http = []
        try:
            for symbol in syms:
                start = time.perf_counter()
                conn.request("GET", f"/v8/finance/chart/{symbol}?{urlencode(query)}")
                answer = conn.getresponse()
                answer.read()
                over_http.append(time.perf_counter() - start)
                if answer.status != 200:
                    raise RuntimeError(f"fake Yahoo answered {answer.status} for {symbol}")
        finally:
            conn.close()
    ms = statistics.median(over_http) * 1000
    return [
        Result(
            id="F2",
            title=f"fake Yahoo: one {params.days}-session 5m chart answer over HTTP",
            value=ms,
            unit="ms",
            target="must not dominate any figure",
            met=None,
            detail={
                "median_in_process_ms": round(statistics.median(in_process) * 1000, 2),
                "median_over_http_ms": round(ms, 2),
                "answer_bytes": len(body),
                "answers": len(syms),
            },
            notes=[
                f"median of {len(syms)}: {statistics.median(in_process) * 1000:.1f} ms to build "
                f"(bars + JSON, {len(body) / 1024:.0f} KiB), {ms:.1f} ms over HTTP"
            ],
        )
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
