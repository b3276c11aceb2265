"""B8: Dagster's bookkeeping and the project's planning as symbols and days pile up.

Measured, each on a scratch SQLite instance (the local default):

- the hourly "today, all symbols" sync of ``sync_symbols`` symbols, run as the schedule
  asks (fake Yahoo, no latency): wall time, peak RSS and the events its run wrote, by
  type; by default the session's first sync (every symbol's corporate actions refreshed
  first), with ``sync_actions_checked`` a later one (refreshed already since the open);
- creating the run of one day × ``run_symbols`` (the planned events Dagster writes then),
  and the process's peak RSS after it; at ``symbols`` partitions also as before issue 13
  (checks scoped per partition, ``bench.b8_before_defs``, and a planned event per
  partition) and with only the planned events per partition (Dagster's default; the
  project switches to one per run, ``defs/dagster_private.plan_each_run_in_one_event``);
- the asset page's ``AssetGraphLiveQuery`` and ``PartitionHealthQuery`` (the UI's query
  text, ``bench.ui_queries``, run by Dagster's GraphQL schema in-process) after one and
  after ``days`` simulated trading days of ``symbols`` symbols: each day one
  materialization per partition and ``syncs_per_day`` syncs' check results (4 per sync
  now; 4 per partition and sync before, simulated for the first day only);
- at ``run_symbols`` symbols: one ``missing_partitions_sensor`` tick with no warehouse,
  ``status`` and the ``sync-intraday --dry-run`` plan over a warehouse holding the latest
  session, and launching a backfill of one day × all symbols through the UI's mutation
  and through the project's own path (``submit_intraday_sync``: plan, create and queue);
- the command line's start: ``stock-pipeline --help`` and ``symbols list`` (best of 3).
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType

from bench import NOW
from bench.b4_completeness import Params as B4Params
from bench.b4_completeness import populate
from bench.dagster_runs import run_timings, scratch_instance, webserver
from bench.fake_process import fake_yahoo_process
from bench.harness import (
    Result,
    clear_yfinance_cache,
    environment,
    main_for,
    peak_rss_mib,
    stopwatch,
    symbols,
    warm_yfinance_timezones,
    workdir,
)
from bench.ui_queries import ASSET_GRAPH_LIVE_QUERY, PARTITION_HEALTH_QUERY
from stock_pipeline import settings
from stock_pipeline.defs.dagster_private import PLANNED_EVENTS_ENV
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.run_keys import RANGE_END_TAG, RANGE_START_TAG
from stock_pipeline.domain.trading_calendar import latest_session, session_close, sessions_back
from stock_pipeline.domain.verdicts import BAR_COUNT, BARS_IN_SESSION, OHLC_SANE, UNIQUE_BARS
from stock_pipeline.warehouse.lake import Lake

log = logging.getLogger("bench.b8")
CHECKS = (OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION, BAR_COUNT)
ASSET = dg.AssetKey("intraday_prices")
JOB = "intraday_prices_job"


@dataclass(frozen=True)
class Params:
    symbols: int = 500  # the asset page's history; run creation "before"
    run_symbols: int = 5000  # run creation, sensor, status, dry-run, backfill launch
    sync_symbols: int = 500  # the real hourly sync
    days: int = 30
    syncs_per_day: int = 7
    before: bool = True  # also measure the per-partition checks as they were
    # Sync a later tick of the session: corporate actions already checked since the open
    # (the session's first sync refreshes every symbol's; that is measured by default).
    sync_actions_checked: bool = False
    # The Yahoo resource's requests_per_second for the sync (None: the project's default).
    sync_requests_per_second: float | None = None
    # The sync's Dagster instance: "sqlite" (the local default) or "postgres" (production).
    sync_storage: str = "sqlite"


# Full size: the hourly sync as issue 13 sets its target, a later tick of 5,000 symbols on
# the production instance storage (PostgreSQL; `--set sync_storage=sqlite` for the local one).
FULL = Params(sync_symbols=5000, sync_actions_checked=True, sync_storage="postgres")
SMOKE = Params(symbols=4, run_symbols=6, sync_symbols=3, days=3, syncs_per_day=2)


@contextmanager
def cpu_seconds() -> Iterator[list[float]]:
    """CPU seconds (user + system) this process spent in the block, in ``box[0]``: on a
    shared machine wall time also counts other people's work."""
    box = [0.0]
    start = time.process_time()
    try:
        yield box
    finally:
        box[0] = time.process_time() - start


def _range_tags(syms: Sequence[str], day: Any) -> dict[str, str]:
    return {RANGE_START_TAG: intraday_key(syms[0], day), RANGE_END_TAG: intraday_key(syms[-1], day)}


def _events(instance: dg.DagsterInstance, run_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in instance.get_records_for_run(run_id, limit=1_000_000).records:
        event = record.event_log_entry.dagster_event
        if event is not None:
            counts[event.event_type_value] = counts.get(event.event_type_value, 0) + 1
    return counts


def hourly_sync(params: Params, root: Path) -> dict[str, Any]:
    """The schedule's last tick of the day, run in this process as a run worker would."""
    from stock_pipeline.definitions import defs
    from stock_pipeline.defs.schedules import intraday_hourly_schedule

    syms = symbols(params.sync_symbols)
    tick = session_close(latest_session(NOW))
    with (
        scratch_instance(root / "sync-home", storage=params.sync_storage) as instance,
        fake_yahoo_process(0.0, None),
    ):
        instance.add_dynamic_partitions("symbols", syms)
        if params.sync_actions_checked:
            from stock_pipeline.warehouse.actions import mark_checked
            from stock_pipeline.warehouse.tables import connect

            with connect(Lake.from_settings()) as con:
                mark_checked(con, syms, tick)
        clear_yfinance_cache()
        warm_yfinance_timezones(syms)
        with stopwatch() as seconds, cpu_seconds() as cpu:
            with dg.build_schedule_context(
                instance=instance, scheduled_execution_time=tick
            ) as context:
                requests = intraday_hourly_schedule.evaluate_tick(context).run_requests or []
            run_ids = []
            for request in requests:
                run_config = dict(request.run_config or {})
                if params.sync_requests_per_second is not None:
                    rate = {"requests_per_second": params.sync_requests_per_second}
                    run_config["resources"] = {"yahoo": {"config": rate}}
                result = defs.resolve_job_def(request.job_name or JOB).execute_in_process(
                    instance=instance,
                    run_config=run_config,
                    tags=request.tags,
                    raise_on_error=False,
                )
                run_ids.append((result.success, result.run_id))
        timings = [run_timings(instance, run_id) for _, run_id in run_ids]
        events: dict[str, int] = {}
        for run_id in (r for _, r in run_ids):
            for kind, n in _events(instance, run_id).items():
                events[kind] = events.get(kind, 0) + n
    return {
        "seconds": seconds[0],
        "cpu_seconds": round(cpu[0], 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "actions_checked_before": params.sync_actions_checked,
        "requests_per_second": params.sync_requests_per_second,
        "instance_storage": params.sync_storage,
        "runs": len(run_ids),
        "runs_succeeded": sum(ok for ok, _ in run_ids),
        "events_by_type": events,
        "step_seconds": [t["step_seconds"] for t in timings],
    }


def create_run(
    instance: dg.DagsterInstance,
    module: str,
    tags: dict[str, str],
    planned_per_partition: bool = False,
) -> dict[str, Any]:
    """Create (not launch) the run of the job for ``tags``' partitions, as a launch does;
    ``planned_per_partition``: with Dagster's default of one planned event per partition."""
    if module == "before":
        from bench.b8_before_defs import defs
    else:
        from stock_pipeline.definitions import defs
    job = defs.resolve_job_def(JOB)
    switch = "0" if planned_per_partition else "1"
    with environment(**{PLANNED_EVENTS_ENV: switch}), stopwatch() as seconds, cpu_seconds() as cpu:
        run = instance.create_run_for_job(job_def=job, tags=tags)
    events = _events(instance, run.run_id)
    keys = [dg.AssetCheckKey(ASSET, name) for name in CHECKS]
    rows = [
        i
        for i in instance.event_log_storage.get_asset_check_partition_info(keys)
        if i.latest_planned_run_id == run.run_id
    ]
    return {
        "seconds": seconds[0],
        "cpu_seconds": round(cpu[0], 2),
        "check_execution_rows": len(rows),
        "planned_materializations": events.get("ASSET_MATERIALIZATION_PLANNED", 0),
        "planned_check_evaluations": events.get("ASSET_CHECK_EVALUATION_PLANNED", 0),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def simulate_day(
    instance: dg.DagsterInstance, syms: Sequence[str], day: Any, syncs: int, per_partition: bool
) -> None:
    """One trading day's records: a materialization per partition, each sync's checks."""
    keys = [intraday_key(s, day) for s in syms]
    for key in keys:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(ASSET, partition=key, metadata={"rows": 78})
        )
    for _ in range(syncs):
        run_id = str(uuid.uuid4())  # each sync is its own run (one result per check and run)
        for name in CHECKS:
            for partition in keys if per_partition else [None]:
                evaluation = dg.AssetCheckEvaluation(
                    asset_key=ASSET, check_name=name, passed=True, partition=partition
                )
                event = DagsterEvent(
                    event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION.value,
                    job_name=JOB,
                    event_specific_data=evaluation,
                )
                instance.report_dagster_event(event, run_id=run_id)


def _median_seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    timings = []
    for _ in range(repeats):
        with stopwatch() as seconds:
            fn()
        timings.append(seconds[0])
    return statistics.median(timings)


def page_queries(home: Path, module: str) -> dict[str, float]:
    """Median seconds of the asset page's live queries, sent over HTTP to a real
    ``dagster-webserver`` serving ``module`` on the instance in ``home``."""
    variables = {"assetKeys": [{"path": ["intraday_prices"]}]}
    health_variables = {"assetKey": {"path": ["intraday_prices"]}}
    with webserver(home, module) as server:
        server.graphql(ASSET_GRAPH_LIVE_QUERY, variables)  # warm: the first query's caches
        live = _median_seconds(lambda: server.graphql(ASSET_GRAPH_LIVE_QUERY, variables))
        health = _median_seconds(lambda: server.graphql(PARTITION_HEALTH_QUERY, health_variables))
    return {"asset_graph_live": live, "partition_health": health}


def asset_page(params: Params, root: Path) -> dict[str, Any]:
    syms = symbols(params.symbols)
    days = sessions_back(latest_session(NOW), params.days)
    out: dict[str, Any] = {}
    home = root / "page-home"
    with scratch_instance(home) as instance:
        instance.add_dynamic_partitions("symbols", syms)
        simulate_day(instance, syms, days[0], params.syncs_per_day, per_partition=False)
        out["after_1_day"] = page_queries(home, "stock_pipeline.definitions")
        for day in days[1:]:
            simulate_day(instance, syms, day, params.syncs_per_day, per_partition=False)
        out[f"after_{params.days}_days"] = page_queries(home, "stock_pipeline.definitions")
    if params.before:
        home = root / "before-home"
        with scratch_instance(home) as instance:
            instance.add_dynamic_partitions("symbols", syms)
            simulate_day(instance, syms, days[0], params.syncs_per_day, per_partition=True)
            out["before_after_1_day"] = page_queries(home, "bench.b8_before_defs")
    return out


def planning(params: Params, root: Path) -> dict[str, Any]:
    """Sensor tick (no warehouse), status and the dry-run plan (latest session stored)."""
    from stock_pipeline.background.submit import submit_intraday_sync
    from stock_pipeline.defs.resources import WarehouseResource
    from stock_pipeline.defs.sensors import missing_partitions_sensor
    from stock_pipeline.reporting.status import collect_status
    from stock_pipeline.services.sync import intraday_days, plan_intraday

    syms = symbols(params.run_symbols)
    day = latest_session(NOW)
    database = root / "planning.duckdb"  # none yet: the sensor's first tick
    out: dict[str, Any] = {}
    with scratch_instance(root / "plan-home") as instance:
        instance.add_dynamic_partitions("symbols", syms)
        warehouse = WarehouseResource(path=str(database))
        with (
            dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse}) as ctx,
            stopwatch() as tick,
            cpu_seconds() as tick_cpu,
        ):
            result = missing_partitions_sensor.evaluate_tick(ctx)
        out["sensor_tick_seconds"] = tick[0]
        out["sensor_tick_cpu_seconds"] = round(tick_cpu[0], 2)
        out["sensor_run_requests"] = len(result.run_requests or [])
        out["slices_stored"] = populate(database, syms, [day], B4Params(missing_every=50))
        with stopwatch() as status, cpu_seconds() as status_cpu:
            collect_status(instance, database, settings.now(), "5m")
        out["status_seconds"] = status[0]
        out["status_cpu_seconds"] = round(status_cpu[0], 2)
        with stopwatch() as plan_time, cpu_seconds() as plan_cpu:
            days = intraday_days(None, None, "5m", settings.now())
            plan = plan_intraday(instance, database, None, "5m", days, False, None)
        out["dry_run_seconds"] = plan_time[0]
        out["dry_run_cpu_seconds"] = round(plan_cpu[0], 2)
        out["dry_run_partitions"] = len(plan.todo)
        with webserver(root / "plan-home", "stock_pipeline.definitions") as server:
            cpu_before = server.cpu_seconds()  # the location has loaded
            with stopwatch() as launch:
                server.launch_backfill("intraday_prices", [intraday_key(s, day) for s in syms])
            out["backfill_launch_seconds"] = launch[0]
            out["backfill_launch_webserver_cpu_seconds"] = round(
                server.cpu_seconds() - cpu_before, 2
            )
        # No warehouse at Lake.from_settings(): every cell is to fetch, one range run.
        with stopwatch() as submit, cpu_seconds() as submit_cpu:
            handle = submit_intraday_sync(instance=instance, eager=False)
        out["submit_seconds"] = submit[0]
        out["submit_cpu_seconds"] = round(submit_cpu[0], 2)
        out["submit_runs"] = len(handle.run_ids)
        out["submit_planned_materializations"] = sum(
            _events(instance, run_id).get("ASSET_MATERIALIZATION_PLANNED", 0)
            for run_id in handle.run_ids
        )
    return out


def cli_start(command: Sequence[str], root: Path) -> float:
    """Best wall time of three starts of ``stock-pipeline command``."""
    executable = Path(sys.executable).with_name("stock-pipeline")
    best = float("inf")
    for _ in range(3):
        with stopwatch() as seconds:
            subprocess.run([str(executable), *command], check=True, capture_output=True, cwd=root)
        best = min(best, seconds[0])
    return best


def run(params: Params) -> list[Result]:
    syms = symbols(params.run_symbols)
    day = latest_session(NOW)
    with workdir("b8") as root:
        with scratch_instance(root / "run-home") as instance:
            instance.add_dynamic_partitions("symbols", syms)
            creation = create_run(instance, "after", _range_tags(syms, day))
            before = now_small = planned_small = None
            if params.before:
                small = _range_tags(syms[: params.symbols], day)
                before = create_run(instance, "before", small, planned_per_partition=True)
                planned_small = create_run(instance, "after", small, planned_per_partition=True)
                now_small = create_run(instance, "after", small)
            log.warning(
                "B8 run creation: %s; before: %s; planned per partition, small: %s; "
                "after, small: %s",
                creation,
                before,
                planned_small,
                now_small,
            )
        sync = hourly_sync(params, root)
        log.warning("B8 hourly sync: %s", sync)
        page = asset_page(params, root)
        log.warning("B8 asset page: %s", page)
        plan = planning(params, root)
        log.warning("B8 planning: %s", plan)
        cli = {
            "help": cli_start(["--help"], root),
            "symbols_list": cli_start(["symbols", "list"], root),
        }
    check_events = {k: v for k, v in sync["events_by_type"].items() if k.startswith("ASSET_CHECK")}
    n, s, d = params.run_symbols, params.symbols, params.days
    last = page[f"after_{d}_days"]
    first = page["after_1_day"]
    results = [
        Result(
            id="B8-sync",
            title=(
                f"hourly 'today, all symbols' sync, {params.sync_symbols} symbols "
                f"({params.sync_storage} instance, no latency)"
            ),
            value=sync["seconds"],
            unit="s",
            target="< 600 s and < 1 GiB at 5,000",
            met=(
                sync["seconds"] < 600 and sync["peak_rss_mib"] < 1024
                if params.sync_symbols >= 5000
                else None
            ),
            detail={**sync, "check_events": check_events},
            notes=[f"check events in the run: {check_events}; runs: {sync['runs']}"],
        ),
        Result(
            id="B8-run",
            title=f"run creation, 1 day × {n} symbols",
            value=creation["seconds"],
            unit="s",
            target="< 20 s, RSS < 1 GiB",
            met=creation["seconds"] < 20 and creation["peak_rss_mib"] < 1024,
            detail={
                "after": creation,
                "before_small": before,
                "planned_per_partition_small": planned_small,
                "after_small": now_small,
            },
            notes=[
                f"{n} partitions: {creation['seconds']:.1f} s, "
                f"{creation['planned_materializations']} planned materialization event(s), "
                f"{creation['check_execution_rows']} planned check rows; "
                + (
                    f"at {s}: {now_small['seconds']:.1f} s now vs {before['seconds']:.1f} s as "
                    f"before issue 13 ({before['planned_materializations']} planned events, "
                    f"{before['check_execution_rows']} planned check rows) and "
                    f"{planned_small['seconds']:.1f} s with a planned event per partition"
                    if before and now_small and planned_small
                    else ""
                )
            ],
        ),
        Result(
            id="B8-ui",
            title=f"AssetGraphLiveQuery after {d} days × {s} symbols",
            value=last["asset_graph_live"],
            unit="s",
            target="< 3 s, as fast as after 1 day",
            met=last["asset_graph_live"] < 3,
            baseline=first["asset_graph_live"],
            baseline_label="after 1 day",
            ratio=last["asset_graph_live"] / first["asset_graph_live"],
            detail=page,
        ),
        Result(
            id="B8-health",
            title=f"PartitionHealthQuery after {d} days × {s} symbols",
            value=last["partition_health"],
            unit="s",
            target="< 3 s",
            met=last["partition_health"] < 3,
            baseline=first["partition_health"],
            baseline_label="after 1 day",
            detail=page,
        ),
    ]
    for rid, key, title, limit in (
        ("B8-sensor", "sensor_tick_seconds", "missing_partitions_sensor tick, no warehouse", 3),
        ("B8-status", "status_seconds", "status (collect_status), 1 session stored", 3),
        ("B8-dry-run", "dry_run_seconds", "sync-intraday --dry-run plan", 3),
        ("B8-backfill", "backfill_launch_seconds", "backfill launch, 1 day (GraphQL)", 5),
        ("B8-submit", "submit_seconds", "queue 1 day, all symbols (submit_intraday_sync)", 5),
    ):
        results.append(
            Result(
                id=rid,
                title=f"{title}, {n} symbols",
                value=plan[key],
                unit="s",
                target=f"< {limit} s",
                met=plan[key] < limit,
                detail=plan,
            )
        )
    results.append(
        Result(
            id="B8-cli",
            title="stock-pipeline --help start (best of 3); symbols list in detail",
            value=cli["help"],
            unit="s",
            target="info",
            met=None,
            detail=cli,
            notes=[f"--help {cli['help']:.2f} s, symbols list {cli['symbols_list']:.2f} s"],
        )
    )
    return results


if __name__ == "__main__":
    main_for(run, FULL, SMOKE)
