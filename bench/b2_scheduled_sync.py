"""B2: wall time of the scheduled "today, all symbols" 5m sync of 500 symbols.

Pipeline, as the schedule launches it: ``intraday_hourly_schedule`` is evaluated for its
16:00 tick (``build_schedule_context`` + ``evaluate_tick``, the daemon's own checks) on a
scratch instance with the symbols registered; each RunRequest it returns is executed with
its job, tags and run config (``execute_in_process`` on that instance: the run, its asset
checks and the IO manager write, as a run worker would, without the worker's process
start). Timed from the tick to the last run's end.

Baseline: a bare script in one process — a loop of ``yf.Ticker(s).history(...)`` for the
same day, each symbol's rows inserted into a DuckDB table of the same layout.

Twice: "B2" as a first run finds yfinance's timezone cache (empty: yfinance probes each new
symbol's timezone with a request of its own; the pipeline asks them in a few batched quotes),
and "B2-warm" as every later hourly run finds it (every symbol's timezone known, on both
sides: what a cron script run hourly would have too; and, on the pipeline's side, every
symbol's corporate actions checked since the session opened, as the 09:30 market-open
sync leaves them: the first sync of a session refreshes them first, one more request per
symbol, which "B2" includes).

Both talk to the same fake Yahoo, in a process of its own: ``latency`` seconds per answer
and, like B7's, 429 above ``rate_limit`` requests per second. The details break the run
down: the span of its Yahoo requests, each step's time and the events Dagster recorded.
The pipeline's Yahoo rate is its resource setting (``requests_per_second``: the project
default unless given here, passed as resource config with the ceiling
``max_requests_per_second`` equal to it: a fixed pace, as measured before the rate adapted;
left at the default, the rate starts at 5/s and climbs towards 10/s).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import yfinance as yf

from bench import NOW
from bench.dagster_runs import run_timings, scratch_instance
from bench.fake import total
from bench.fake_process import fake_yahoo_process
from bench.harness import (
    Result,
    clear_yfinance_cache,
    environment,
    main_for,
    ratio,
    stopwatch,
    symbols,
    warm_yfinance_timezones,
    workdir,
)
from stock_pipeline.defs.partitions import SYMBOLS
from stock_pipeline.domain.trading_calendar import NEW_YORK, latest_session, session_close
from stock_pipeline.settings import yfinance_cache_dir
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect
from stock_pipeline.yahoo.session import YahooSession

INTERVAL = "5m"


@dataclass(frozen=True)
class Params:
    symbols: int = 500
    latency: float = 0.1
    rate_limit: float = 10.0  # 0: unlimited
    requests_per_second: float = 0.0  # the pipeline's Yahoo rate; 0: the project default
    storage: str = "sqlite"  # the Dagster instance: "sqlite" (local) or "postgres" (deploy)
    checks: bool = True  # False: the same job without its asset checks (bench.b2_no_checks_defs)
    warm: bool = True  # also both sides again with yfinance's timezone cache warm (B2-warm)
    event_batch: int = 0  # DAGSTER_EVENT_BATCH_SIZE for the run (0: Dagster's default, off)


FULL = Params(requests_per_second=9.5)  # 5% under the fake's limit: arrival jitter
SMOKE = Params(symbols=5, latency=0.0, rate_limit=0.0)


@dataclass
class Side:
    seconds: float
    counts: Counter[str]
    rows: int
    detail: dict[str, Any]


def _rows(database: Lake) -> int:
    with connect(database, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
    return int(row[0]) if row else 0


# What a user would write: the table with its key, INSERT OR REPLACE into it.
SCRIPT_TABLE = (
    INTRADAY_PRICES.ddl().removesuffix(")") + ', PRIMARY KEY ("symbol", "interval", "ts"))'
)


def scheduled(params: Params, syms: list[str], tick: datetime, warm: bool) -> Side:
    from stock_pipeline.defs.schedules import intraday_hourly_schedule

    if params.checks:
        from stock_pipeline.definitions import defs
    else:
        from bench.b2_no_checks_defs import defs
    limit = params.rate_limit or None
    with (
        workdir("b2") as root,
        scratch_instance(root / "home", storage=params.storage) as instance,
        fake_yahoo_process(params.latency, limit) as fake,
        environment(DAGSTER_EVENT_BATCH_SIZE=str(params.event_batch or "") or None),
    ):
        instance.add_dynamic_partitions(SYMBOLS, syms)
        clear_yfinance_cache()
        if warm:
            warm_yfinance_timezones(syms)
            from stock_pipeline.domain.trading_calendar import latest_session, session_open
            from stock_pipeline.warehouse.actions import mark_checked

            with connect(Lake.from_settings()) as con:  # by the market-open sync, 09:30
                mark_checked(con, syms, session_open(latest_session(tick)))
        resources = (
            {
                "yahoo": {
                    "config": {
                        "requests_per_second": params.requests_per_second,
                        "max_requests_per_second": params.requests_per_second,
                    }
                }
            }
            if params.requests_per_second
            else {}
        )
        runs = []
        with stopwatch() as seconds:
            with dg.build_schedule_context(
                instance=instance, scheduled_execution_time=tick
            ) as context:
                requests = intraday_hourly_schedule.evaluate_tick(context).run_requests or []
            for request in requests:
                job = defs.resolve_job_def(request.job_name or intraday_hourly_schedule.job_name)
                result = job.execute_in_process(
                    instance=instance,
                    run_config={**request.run_config, "resources": resources},
                    tags=request.tags,
                    raise_on_error=False,
                )
                runs.append((result.success, result.run_id))
        if not requests:
            raise RuntimeError(f"the schedule requested no run at {tick}")
        counts, span = fake.stats()
        return Side(
            seconds[0],
            counts,
            _rows(Lake.from_settings()),
            {
                "runs": len(runs),
                "runs_succeeded": sum(ok for ok, _ in runs),
                "yahoo_span_seconds": round(span, 2),
                "timings": [run_timings(instance, run_id) for _, run_id in runs],
            },
        )


def bare_script(params: Params, syms: list[str], day: Any, warm: bool) -> Side:
    """What a user would write: one process, a loop of yfinance calls, rows into DuckDB."""
    limit = params.rate_limit or None
    with workdir("b2-script") as root, fake_yahoo_process(params.latency, limit) as fake:
        clear_yfinance_cache()
        yf.set_tz_cache_location(str(yfinance_cache_dir()))
        if warm:
            warm_yfinance_timezones(syms)
        session = YahooSession(base_url=fake.url)  # only redirects yfinance to the fake
        database = root / "script.duckdb"
        failed = 0
        with stopwatch() as seconds:
            con = duckdb.connect(str(database))
            try:
                con.execute(SCRIPT_TABLE)
                for symbol in syms:
                    try:
                        raw = yf.Ticker(symbol, session=session).history(
                            start=day,
                            end=day + timedelta(days=1),
                            interval=INTERVAL,
                            prepost=False,
                            auto_adjust=False,
                            actions=False,
                        )
                    except Exception:  # a script that carries on; failures counted below
                        failed += 1
                        continue
                    rows = pd.DataFrame(
                        {
                            "symbol": symbol,
                            "interval": INTERVAL,
                            "session_date": day,
                            "ts": raw.index.tz_convert("UTC"),
                            "open": raw["Open"].to_numpy(),
                            "high": raw["High"].to_numpy(),
                            "low": raw["Low"].to_numpy(),
                            "close": raw["Close"].to_numpy(),
                            "volume": raw["Volume"].to_numpy(),
                            "fetched_at": pd.Timestamp.now(tz="UTC"),
                        }
                    )
                    con.register("script_rows", rows)
                    con.execute("INSERT OR REPLACE INTO intraday_prices SELECT * FROM script_rows")
                    con.unregister("script_rows")
                stored = con.execute("SELECT count(*) FROM intraday_prices").fetchone()
            finally:
                con.close()
        counts, span = fake.stats()
        return Side(
            seconds[0],
            counts,
            int(stored[0]) if stored else 0,
            {"symbols_failed": failed, "yahoo_span_seconds": round(span, 2)},
        )


def run(params: Params) -> list[Result]:
    syms = symbols(params.symbols)
    day = latest_session(NOW)
    tick = session_close(day).astimezone(NEW_YORK)  # the hourly schedule's last tick
    results = [compare(params, syms, day, tick, warm=False)]
    if params.warm:
        results.append(compare(params, syms, day, tick, warm=True))
    return results


def compare(params: Params, syms: list[str], day: Any, tick: datetime, warm: bool) -> Result:
    """Both sides with yfinance's timezone cache cold (a first run) or warm (every later one)."""
    pipe = scheduled(params, syms, tick, warm)
    base = bare_script(params, syms, day, warm)
    pipe_total, base_total = total(pipe.counts), total(base.counts)
    rate = params.requests_per_second or "default"
    checks = "" if params.checks else ", no asset checks"
    cache = "later tick: timezones cached, actions checked since the open" if warm else "first run"
    if params.storage != "sqlite":
        checks += f", {params.storage} instance"
    if params.event_batch:
        checks += f", event batches of {params.event_batch}"
    return Result(
        id="B2-warm" if warm else "B2",
        title=f"scheduled 'today, all symbols' 5m sync, {params.symbols} symbols, {cache}{checks}",
        value=pipe.seconds,
        unit="s",
        target="≤ 1.3× bare script",
        met=pipe.seconds <= 1.3 * base.seconds and pipe.rows == base.rows,
        baseline=base.seconds,
        baseline_label="yfinance loop + DuckDB",
        ratio=ratio(pipe.seconds, base.seconds),
        seconds=pipe.seconds,
        detail={
            "fake_latency_s": params.latency,
            "fake_rate_limit_per_s": params.rate_limit or None,
            "storage": params.storage,
            "dagster_event_batch_size": params.event_batch or None,
            "asset_checks": params.checks,
            "timezone_cache": "warm" if warm else "cold",
            "corporate_actions_checked_since_open": warm,
            "pipeline_requests_per_second": params.requests_per_second or None,
            "pipeline_rows": pipe.rows,
            "pipeline_requests": pipe_total,
            "pipeline_requests_by_kind": dict(pipe.counts),
            **{f"pipeline_{k}": v for k, v in pipe.detail.items()},
            "baseline_rows": base.rows,
            "baseline_requests": base_total,
            "baseline_requests_by_kind": dict(base.counts),
            **{f"baseline_{k}": v for k, v in base.detail.items()},
        },
        notes=[
            f"fake Yahoo: {params.latency * 1000:.0f} ms per answer, 429 above "
            f"{params.rate_limit or '∞'}/s; pipeline rate: {rate}; rows "
            f"{pipe.rows} vs {base.rows}; requests {pipe_total} vs {base_total}; 429s "
            f"{pipe.counts['429']} vs {base.counts['429']}"
        ],
    )


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
