"""B6: peak memory (RSS) of the process that runs B3.

B3 runs in a fresh Python process (``python -m bench.b3_io_write``); its peak resident set
is read from the kernel when it exits (``wait4``'s ``ru_maxrss``). That process generates
the 2.3 M bars, writes them through the IO manager and runs DuckDB's baseline inserts, so
the figure covers everything B3 holds at once. Returns B3's results and B6.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.b3_io_write import FULL as B3_FULL
from bench.b3_io_write import SMOKE as B3_SMOKE
from bench.harness import RESULTS_DIR, Result, main_for, run_child

LIMIT_MIB = 1024.0


@dataclass(frozen=True)
class Params:
    symbols: int = B3_FULL.symbols
    days: int = B3_FULL.days


FULL = Params()
SMOKE = Params(symbols=B3_SMOKE.symbols, days=B3_SMOKE.days)


def run(params: Params) -> list[Result]:
    child = run_child(
        "bench.b3_io_write",
        ["--set", f"symbols={params.symbols}", "--set", f"days={params.days}"],
        RESULTS_DIR / "logs",
    )
    b3 = next(r for r in child.results if r.id == "B3")
    phases = b3.detail.get("peak_rss_mib", {})
    return [
        *child.results,
        Result(
            id="B6",
            title=f"peak RSS of the B3 process ({b3.detail['rows']:,} bars)",
            value=child.peak_rss_mib,
            unit="MiB",
            target=f"≤ {LIMIT_MIB:,.0f} MiB",
            met=child.peak_rss_mib <= LIMIT_MIB,
            seconds=child.seconds,
            detail={"peak_rss_mib_by_phase": phases, "log": str(child.log)},
            notes=[
                "peak so far after each phase (MiB): "
                + ", ".join(f"{k} {v:,.0f}" for k, v in phases.items())
            ],
        ),
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
