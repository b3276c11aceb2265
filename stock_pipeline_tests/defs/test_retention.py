from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.defs.assets.prices import intraday_prices
from stock_pipeline.defs.checks import intraday_prices_checks
from stock_pipeline.defs.retention import (
    RETENTION_TAG,
    delete_intraday_before,
    intraday_retention_schedule,
)
from stock_pipeline.domain.verdicts import OHLC_SANE
from stock_pipeline.settings.automation import KEEP_DAYS_ENV
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.pipeline import Pipeline

NY = ZoneInfo("America/New_York")
CHRISTMAS_EVE = "2026-12-24T23:00:00+00:00"  # keep 30 days: sessions from 2026-11-24 on


def run_retention(instance: dg.DagsterInstance, **config: object) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("intraday_retention_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"delete_old_intraday_bars": {"config": config}}},
    )


def test_rows_before_the_cutoff_are_deleted_and_counted(duckdb_file: Path) -> None:
    fetched = pd.Timestamp("2026-11-25 22:00", tz="UTC")
    frames = [bars("AAPL", date(2026, 11, d)).assign(fetched_at=fetched) for d in (23, 24, 25)]
    with connect(duckdb_file) as con:
        replace_slices(con, INTRADAY_PRICES, pd.concat(frames, ignore_index=True))
        deleted = delete_intraday_before(con, date(2026, 11, 25))
        kept = con.execute("SELECT DISTINCT session_date FROM intraday_prices").fetchall()
    assert list(deleted.itertuples(index=False, name=None)) == [
        ("AAPL", pd.Timestamp("2026-11-23"), 78),
        ("AAPL", pd.Timestamp("2026-11-24"), 78),
    ]
    assert [d for (d,) in kept] == [date(2026, 11, 25)]


def latest(instance: dg.DagsterInstance, key: str) -> dg.EventLogRecord:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=intraday_prices.key, asset_partitions=[key]), limit=1
    ).records
    return records[0]


def test_deleted_partitions_no_longer_show_as_holding_data(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = dg.materialize(
        [intraday_prices, intraday_prices_checks],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags={
            "dagster/asset_partition_range_start": "2026-11-23|AAPL",
            "dagster/asset_partition_range_end": "2026-11-25|AAPL",
        },
    )
    assert result.success
    run = run_retention(pipeline.instance, as_of=CHRISTMAS_EVE)
    assert run.success

    remaining = pipeline.query("SELECT DISTINCT session_date FROM intraday_prices")
    assert sorted(pd.to_datetime(remaining["session_date"]).dt.date) == [
        date(2026, 11, 24),
        date(2026, 11, 25),
    ]
    emptied = latest(pipeline.instance, "2026-11-23|AAPL")
    mat = emptied.asset_materialization
    assert mat is not None and emptied.run_id == run.run_id
    assert mat.metadata["rows"].value == 0
    assert mat.metadata["deleted_rows"].value == 78
    assert mat.tags is not None and mat.tags[RETENTION_TAG] == "deleted"
    assert mat.description is not None and "deleted by retention" in mat.description
    kept = latest(pipeline.instance, "2026-11-24|AAPL").asset_materialization
    assert kept is not None and kept.metadata["rows"].value == 78

    # The emptied partition's check results no longer count as its current ones.
    check = dg.AssetCheckKey(intraday_prices.key, OHLC_SANE)
    infos = pipeline.instance.event_log_storage.get_asset_check_partition_info([check])
    current = {i.partition_key: i.is_current for i in infos}
    assert current == {"2026-11-23|AAPL": False, "2026-11-24|AAPL": True, "2026-11-25|AAPL": True}

    # Why not wipe the partitions instead: open-source storage cannot.
    with pytest.raises(NotImplementedError):
        pipeline.instance.wipe_asset_partitions(intraday_prices.key, ["2026-11-23|AAPL"])


def test_run_config_and_environment_choose_the_period(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched = pd.Timestamp("2026-11-25 22:00", tz="UTC")
    with connect(pipeline.database) as con:
        replace_slices(
            con, INTRADAY_PRICES, bars("AAPL", date(2026, 11, 23)).assign(fetched_at=fetched)
        )
    monkeypatch.setenv(KEEP_DAYS_ENV, "40")
    run_retention(pipeline.instance, as_of=CHRISTMAS_EVE)
    assert len(pipeline.query("SELECT * FROM intraday_prices")) == 78  # kept for 40 days
    run_retention(pipeline.instance, as_of=CHRISTMAS_EVE, keep_days=30)
    assert pipeline.query("SELECT * FROM intraday_prices").empty


def test_the_schedule_runs_daily_after_the_close() -> None:
    assert intraday_retention_schedule.cron_schedule == "0 18 * * *"
    assert intraday_retention_schedule.execution_timezone == "America/New_York"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 28, 18, 0, tzinfo=NY)
    )
    (request,) = intraday_retention_schedule.evaluate_tick(context).run_requests or []
    assert request.run_key == "intraday_retention:2026-11-28"
    config = request.run_config["ops"]["delete_old_intraday_bars"]["config"]
    assert config == {"as_of": "2026-11-28T18:00:00-05:00"}
