"""``python -m bench``: every benchmark, each in a fresh process, then one table.

    uv run python -m bench                 # full sizes (B1 launches a real dagster-daemon)
    uv run python -m bench --smoke         # the reduced sizes of the test suite
    uv run python -m bench --only B3,B6    # some of them
    uv run python -m bench --set B7.requests_per_second=9   # change one parameter

Results go to ``data/bench/results.json`` (logs of each benchmark in ``data/bench/logs``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime

from bench.harness import RESULTS_DIR, Result, format_table, machine, markdown_table, run_child

# Module, and the results it reports (B6 runs B3 in a child of its own and reports both).
BENCHMARKS: list[tuple[str, tuple[str, ...]]] = [
    ("bench.b1_backfill_requests", ("B1",)),
    ("bench.b2_scheduled_sync", ("B2", "B2-warm")),
    ("bench.b6_write_memory", ("B3", "B6", "F1")),
    ("bench.b4_completeness", ("B4",)),
    ("bench.b5_current_prices", ("B5",)),
    ("bench.b7_rate_limit", ("B7", "B7-wall")),
    (
        "bench.b8_scale",
        (
            "B8-sync",
            "B8-run",
            "B8-ui",
            "B8-health",
            "B8-sensor",
            "B8-status",
            "B8-dry-run",
            "B8-backfill",
            "B8-cli",
        ),
    ),
    ("bench.b9_history", ("B9", "B9-daily", "B10")),
    ("bench.b11_reverify", ("B11",)),
    ("bench.b12_lake", ("B12-reader", "B12-files", "B12-bytes")),
    ("bench.fake_timing", ("F2",)),
    ("bench.p1_progress_channel", ("P1",)),
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="reduced sizes (as the tests)")
    parser.add_argument("--only", help="comma-separated ids, e.g. B1,B3")
    parser.add_argument(
        "--set", action="append", default=[], metavar="ID.NAME=VALUE", help="a parameter"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    args = parser.parse_args()
    only = {i.strip().upper() for i in args.only.split(",")} if args.only else None
    started = datetime.now(UTC)
    host = machine()
    results: list[Result] = []
    for module, ids in BENCHMARKS:
        if only and not only & {i.upper() for i in ids}:
            continue
        extra = ["--smoke"] if args.smoke else []
        for item in args.set:
            target, _, setting = item.partition(".")
            if target.upper() in ids:
                extra += ["--set", setting]
        print(f"running {module} ({', '.join(ids)}) …", file=sys.stderr, flush=True)
        start = time.perf_counter()
        child = run_child(module, extra, RESULTS_DIR / "logs")
        print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        results += child.results
    results.sort(key=lambda r: (r.id[0] != "B", r.id))
    host["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(format_table(results))
    for r in results:
        for note in r.notes:
            print(f"  {r.id}: {note}")
    if args.markdown:
        print()
        print(markdown_table(results))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "results.json").write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "smoke": args.smoke,
                "machine": host,
                "results": [r.to_json() for r in results],
            },
            indent=2,
        )
    )
    print(f"\nresults: {RESULTS_DIR / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
