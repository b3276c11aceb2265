"""The fake Yahoo as the benchmarks use it: started on the pinned clock, requests counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from bench import NOW
from bench.harness import environment
from stock_pipeline.fake_yahoo import FakeYahoo, FakeYahooConfig
from stock_pipeline.yahoo.session import chart_kind

ONE_OFF = ("cookie", "crumb", "consent", "timezone")


@contextmanager
def fake_yahoo(
    latency_seconds: float = 0.0, rate_limit_per_second: float | None = None
) -> Iterator[FakeYahoo]:
    """A fake Yahoo on the benchmarks' clock, with the pipeline pointed at it."""
    config = FakeYahooConfig(
        now=NOW, latency_seconds=latency_seconds, rate_limit_per_second=rate_limit_per_second
    )
    with FakeYahoo(config) as fake, environment(STOCK_PIPELINE_YAHOO_URL=fake.url):
        yield fake


def request_counts(fake: FakeYahoo) -> Counter[str]:
    """Requests the fake answered, by kind; chart requests split as the pipeline meters
    them (``chart_kind``): price requests (``chart``), yfinance's one-off timezone probes
    (``timezone``) and corporate-actions refreshes (``actions``); ``429`` counts the Too
    Many Requests answers among them."""
    counts: Counter[str] = Counter()
    for record in fake.log:
        kind = record.kind
        query = record.query
        if kind == "chart":
            kind = chart_kind(query)
        counts[kind] += 1
        if record.status == 429:
            counts["429"] += 1
    return counts


def total(counts: Counter[str]) -> int:
    return sum(v for k, v in counts.items() if k != "429")


def one_off(counts: Counter[str]) -> int:
    return sum(counts[k] for k in ONE_OFF)
