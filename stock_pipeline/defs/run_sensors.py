"""Sensors that watch finished runs: dead-symbol quarantine and run-failure alerts."""

from __future__ import annotations

import dagster as dg

from stock_pipeline import settings
from stock_pipeline.services.alerts import failure_alert, send_alert
from stock_pipeline.services.quarantine import scan_finished_runs
from stock_pipeline.services.run_report import read_run_report
from stock_pipeline.settings import automation as knobs


@dg.sensor(
    name="dead_symbols_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads every finished run and counts, per symbol, consecutive runs in which "
        "Yahoo did not know it (SymbolNotFoundError) or sent nothing (NoDataError). After "
        "$STOCK_PIPELINE_QUARANTINE_AFTER (default 3) the symbol is quarantined: schedules "
        "and the missing-partitions sensor leave it out until `stock-pipeline symbols enable "
        "SYMBOL`. A run that stores any of its partitions resets the count. Launches no runs."
    ),
)
def dead_symbols_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    after = int(context.cursor) if context.cursor else 0
    scan = scan_finished_runs(context.instance, after, knobs.quarantine_after(), settings.now())
    for record in scan.newly_quarantined:
        context.log.warning(
            "quarantined %s after %d consecutive runs without data (last: %s, run %s); "
            "re-enable with `stock-pipeline symbols enable %s`",
            record.symbol,
            record.failures,
            record.last_reason,
            record.last_run_id,
            record.symbol,
        )
    names = ", ".join(r.symbol for r in scan.newly_quarantined)
    return dg.SensorResult(
        cursor=str(scan.after_storage_id),
        skip_reason=f"read {scan.runs} finished run(s)"
        + (f"; quarantined {names}" if names else ""),
    )


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "On every failed run of this code location: logs an alert (run id, job, failed "
        "partitions with their reasons, link /runs/<id>) and, when "
        "$STOCK_PIPELINE_ALERT_WEBHOOK is set, POSTs it there as JSON "
        "($STOCK_PIPELINE_ALERT_TIMEOUT seconds, default 10). A webhook that is down is "
        "logged, never fatal."
    ),
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    alert = failure_alert(read_run_report(context.instance, run.run_id), run.job_name)
    send_alert(alert, knobs.alert_webhook(), knobs.alert_timeout_seconds(), context.log)
