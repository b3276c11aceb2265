"""Run tags and run config, defined once: the configs the builders make are what the ops accept."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.domain.run_keys import (
    DAILY_OP,
    INTRADAY_OP,
    PARTITION_TAG,
    as_of_run_config,
    price_run_config,
)
from stock_pipeline_tests.support.pipeline import ASSETS, Pipeline


def test_price_run_config_sets_the_interval_of_an_intraday_run(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = dg.materialize(
        [ASSETS[INTRADAY_OP]],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags={PARTITION_TAG: "2026-11-24|AAPL"},
        run_config=price_run_config(INTRADAY_OP, "15m"),
    )
    assert result.success
    stored = pipeline.query(
        "SELECT DISTINCT interval, count(*) AS n FROM intraday_prices GROUP BY 1"
    )
    assert stored.to_dict("records") == [{"interval": "15m", "n": 26}]


def test_price_run_config_sets_the_interval_of_a_history_run(pipeline: Pipeline) -> None:
    pipeline.register(["KO"])
    result = dg.materialize(
        [ASSETS[DAILY_OP]],
        instance=pipeline.instance,
        resources=pipeline.resources(),
        tags={PARTITION_TAG: "2025|KO"},
        run_config=price_run_config(DAILY_OP, "1wk"),
    )
    assert result.success
    assert set(pipeline.query("SELECT interval FROM daily_prices")["interval"]) == {"1wk"}


def test_a_config_for_another_op_is_refused_by_dagster(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.materialize(
            [ASSETS[INTRADAY_OP]],
            instance=pipeline.instance,
            resources=pipeline.resources(),
            tags={PARTITION_TAG: "2026-11-24|AAPL"},
            run_config=price_run_config(DAILY_OP, "15m"),
        )


@pytest.mark.parametrize(
    ("job", "op"),
    [
        ("intraday_retention_job", "delete_old_intraday_bars"),
        ("intraday_freshness_job", "intraday_prices_fresh"),
    ],
)
def test_as_of_run_config_is_accepted_by_the_housekeeping_jobs(
    instance: dg.DagsterInstance, job: str, op: str
) -> None:
    moment = datetime(2026, 11, 25, 22, 0, tzinfo=UTC).isoformat()
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, run_config=as_of_run_config(op, moment)
    )
    assert result.success
