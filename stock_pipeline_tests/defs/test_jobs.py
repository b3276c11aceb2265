"""Jobs select the assets that schedules, sensors and the command line mean them to run."""

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.defs.jobs import JOBS
from stock_pipeline.defs.partitions import history_partitions, intraday_partitions


@pytest.mark.parametrize(
    ("job", "assets"),
    [
        ("intraday_prices_job", {"intraday_prices"}),
        ("daily_prices_job", {"daily_prices"}),
        ("stocks_job", {"stocks"}),
        ("current_prices_job", {"current_prices"}),
        ("market_open_job", {"current_prices", "intraday_prices"}),
        ("intraday_retention_job", set()),
        ("intraday_freshness_job", set()),
    ],
)
def test_each_job_selects_its_assets(job: str, assets: set[str]) -> None:
    resolved = defs.resolve_job_def(job)
    selected = {k.to_user_string() for k in resolved.asset_layer.selected_asset_keys}
    assert selected == assets


def test_price_jobs_are_partitioned_like_their_asset() -> None:
    assert defs.resolve_job_def("intraday_prices_job").partitions_def == intraday_partitions
    assert defs.resolve_job_def("daily_prices_job").partitions_def == history_partitions


def test_housekeeping_jobs_run_their_op() -> None:
    assert (
        "delete_old_intraday_bars"
        in defs.resolve_job_def("intraday_retention_job").graph.node_names()
    )
    freshness = defs.resolve_job_def("intraday_freshness_job")
    assert any("intraday_prices_fresh" in name for name in freshness.graph.node_names())


def test_every_job_is_in_the_definitions_once() -> None:
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    for name in names:
        assert defs.resolve_job_def(name).name == name


def test_reverification_runs_in_its_own_job_only() -> None:
    check = dg.AssetCheckKey(dg.AssetKey("daily_prices"), "matches_yahoo")
    reverify = defs.resolve_job_def("reverify_job")
    assert reverify.asset_layer.selected_asset_keys == set()
    assert check in reverify.asset_layer.asset_graph.asset_check_keys
    assert reverify.partitions_def is None
    daily = defs.resolve_job_def("daily_prices_job")
    daily_checks = {k.name for k in daily.asset_layer.asset_graph.asset_check_keys}
    assert "matches_yahoo" not in daily_checks
    assert {"ohlc_sane", "matches_intraday_bars"} <= daily_checks  # the others stay
    assert "daily_prices_reverification" not in daily.graph.node_names()
