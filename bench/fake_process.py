"""The fake Yahoo in a process of its own, as Yahoo is another machine.

Timing benchmarks (B2, B7) must not let the fake's threads — its latency sleeps and its
rate-limit clock — wait on the measured process's interpreter lock. ``python -m
bench.fake_process LATENCY RATE_LIMIT`` serves on a free port, prints its URL, then answers
each ``counts`` line on stdin with one JSON line of ``bench.fake.request_counts`` and stops
at end of input; each answer also holds ``span``, the seconds from the first request the
fake received to the end of the last one it answered (0 before any). ``FakeProcess``
drives it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import REPO, environment


class FakeProcess:
    """A running fake Yahoo process: its URL and its request counts."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def stats(self) -> tuple[Counter[str], float]:
        """Requests by kind (``bench.fake.request_counts``) and their span in seconds."""
        answer = self._ask()
        return Counter(answer["counts"]), float(answer["span"])

    def arrivals(self) -> list[float]:
        """When each request arrived, in seconds after the first (sorted)."""
        return [float(t) for t in self._ask()["arrivals"]]

    def _ask(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer


@contextmanager
def fake_yahoo_process(
    latency_seconds: float, rate_limit_per_second: float | None
) -> Iterator[FakeProcess]:
    """The fake in a child process, with the pipeline pointed at it."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.fake_process",
            str(latency_seconds),
            str(rate_limit_per_second or 0),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the fake Yahoo process did not start: {url!r}")
        with environment(STOCK_PIPELINE_YAHOO_URL=url):
            yield FakeProcess(proc, url)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve(latency_seconds: float, rate_limit_per_second: float | None) -> None:
    from bench.fake import fake_yahoo, request_counts

    with fake_yahoo(latency_seconds, rate_limit_per_second) as fake:
        first: list[float] = []
        last: list[float] = []
        arrivals: list[float] = []
        answer = fake.app.handle

        def timed(*args: Any, **kwargs: Any) -> Any:
            arrivals.append(time.monotonic())
            if not first:
                first.append(arrivals[-1])
            try:
                return answer(*args, **kwargs)
            finally:
                last[:] = [time.monotonic()]

        fake.app.handle = timed  # type: ignore[method-assign]
        print(fake.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "counts":
                span = last[0] - first[0] if first and last else 0.0
                since = [round(t - first[0], 4) for t in sorted(arrivals)] if first else []
                answer_line = {"counts": request_counts(fake), "span": span, "arrivals": since}
                print(json.dumps(answer_line), flush=True)


if __name__ == "__main__":
    serve(float(sys.argv[1]), float(sys.argv[2]) or None)
