"""B11: the weekly re-verification of stored daily history, its Yahoo requests and time.

``symbols`` registered symbols get their daily bars for ``years`` in one ``daily_prices_job``
run against the fake Yahoo; then the fake corrects one past daily bar of one symbol in
``correct_every`` and one ``reverify_job`` run compares every stored bar with Yahoo's answer
today and stores the corrected years again. Measured: the run's Yahoo requests by kind
(every request counts; the target is one price request per symbol), its wall time, and
the dates compared per second. The corrected symbols must be exactly the ones reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bench.dagster_runs import scratch_instance
from bench.fake import fake_yahoo, request_counts, total
from bench.harness import Result, clear_yfinance_cache, main_for, stopwatch, symbols, workdir
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.domain.partition_keys import history_key

CORRECTED_DAY = date(2025, 3, 12)


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    first_year: int = 2025
    last_year: int = 2026
    correct_every: int = 50


FULL = Params()
SMOKE = Params(symbols=4, correct_every=2)


def run(params: Params) -> list[Result]:
    from stock_pipeline.definitions import defs

    syms = symbols(params.symbols)
    corrected = syms[:: params.correct_every]
    with workdir("b11") as root, scratch_instance(root / "home") as instance, fake_yahoo() as fake:
        instance.add_dynamic_partitions(SYMBOLS, syms)
        sync = defs.resolve_job_def("daily_prices_job").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": history_key(syms[0], params.first_year),
                "dagster/asset_partition_range_end": history_key(syms[-1], params.last_year),
            },
            raise_on_error=False,
        )
        if not sync.success:
            raise RuntimeError("daily_prices_job failed")
        fake.config.bad_prints = {s: (CORRECTED_DAY,) for s in corrected}  # Yahoo corrects
        fake.config.bad_print_factor = 1.02
        fake.reset_counters()
        clear_yfinance_cache()
        job = defs.resolve_job_def("reverify_job")
        with stopwatch() as seconds:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
        if not result.success:
            raise RuntimeError("reverify_job failed")
        counts = request_counts(fake)
    (evaluation,) = result.get_asset_check_evaluations()
    meta: dict[str, Any] = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    found = sorted(meta["differing"])
    if found != sorted(corrected):
        raise RuntimeError(f"re-verification reported {found}, the fake corrected {corrected}")
    requests = total(counts)
    dates = int(meta["dates_compared"])
    return [
        Result(
            id="B11",
            title=(
                f"weekly re-verification of {params.symbols} symbols × "
                f"{params.last_year - params.first_year + 1} stored years "
                f"({len(corrected)} corrected)"
            ),
            value=requests,
            unit="req",
            target=f"≤ {params.symbols} price requests (1 per symbol; + one-off requests)",
            met=counts["chart"] <= params.symbols,
            seconds=seconds[0],
            detail={
                "requests_by_kind": dict(counts),
                "seconds": round(seconds[0], 2),
                "dates_compared": dates,
                "partitions_repaired": meta["partitions_repaired"],
            },
            notes=[
                f"{dict(counts)}; {dates:,} dates compared in {seconds[0]:.1f} s "
                f"({dates / seconds[0]:,.0f}/s), {meta['partitions_repaired']} partition(s) "
                "stored again"
            ],
        )
    ]


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
