"""Run tags and run config, defined once: the configs the builders make are what the jobs accept.

Checked against the real job definitions with ``dg.validate_run_config`` (no run, no
instance: this stays in the fast loop); ``defs/assets/test_prices.py`` materializes with one.
"""

from typing import Any

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.domain.run_keys import (
    DAILY_OP,
    INTRADAY_OP,
    as_of_run_config,
    price_run_config,
)

MOMENT = "2026-11-25T22:00:00+00:00"


def op_config(job: str, run_config: dict[str, Any], op: str) -> dict[str, Any]:
    """The op's config as Dagster resolves it for the job (raises when the job refuses it)."""
    resolved = dg.validate_run_config(defs.resolve_job_def(job), run_config)
    config: dict[str, Any] = resolved["ops"][op]["config"]
    return config


@pytest.mark.parametrize(
    ("job", "op", "interval"),
    [
        ("intraday_prices_job", INTRADAY_OP, "15m"),
        ("market_open_job", INTRADAY_OP, "1m"),
        ("daily_prices_job", DAILY_OP, "1wk"),
    ],
)
def test_price_run_config_is_the_interval_the_price_op_receives(
    job: str, op: str, interval: str
) -> None:
    assert op_config(job, price_run_config(op, interval), op) == {"interval": interval}


def test_a_price_config_for_the_other_op_is_refused() -> None:
    with pytest.raises(
        dg.DagsterInvalidConfigError, match='unexpected config entry "daily_prices"'
    ):
        op_config("intraday_prices_job", price_run_config(DAILY_OP, "1d"), INTRADAY_OP)


@pytest.mark.parametrize(
    ("job", "op"),
    [
        ("intraday_retention_job", "delete_old_intraday_bars"),
        ("intraday_freshness_job", "intraday_prices_fresh"),
    ],
)
def test_as_of_run_config_pins_the_housekeeping_op_s_now(job: str, op: str) -> None:
    assert op_config(job, as_of_run_config(op, MOMENT), op)["as_of"] == MOMENT
