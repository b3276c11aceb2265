"""The code location as Dagster's own tools load it: validate, and `dagster asset materialize`."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.tables import connect

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def run_dagster(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DAGSTER, *args],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_definitions_load_without_warnings() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::UserWarning",
            "-W",
            "error::FutureWarning",
            "-c",
            "from stock_pipeline.definitions import defs; "
            "keys = defs.resolve_asset_graph().get_all_asset_keys(); "
            "print(sorted(k.to_user_string() for k in keys))",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "intraday_prices" in result.stdout and "daily_prices" in result.stdout
    assert "Warning" not in result.stderr


def test_dagster_validate_accepts_the_workspace() -> None:
    result = run_dagster(["definitions", "validate", "-w", "workspace.yaml"], {})
    assert result.returncode == 0, result.stderr
    assert "Validation successful for code location stock_pipeline" in result.stdout + result.stderr


@pytest.mark.integration
def test_dagster_asset_materialize_one_partition_and_a_range(
    fake_yahoo: FakeYahoo, isolated_paths: Path
) -> None:
    home = isolated_paths / "dagster_home"
    home.mkdir(parents=True)
    env = {"DAGSTER_HOME": str(home), "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])

    one = run_dagster(
        [
            "asset",
            "materialize",
            "-m",
            "stock_pipeline.definitions",
            "--select",
            "intraday_prices",
            "--partition",
            "2026-11-25|AAPL",
        ],
        env,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    ranged = run_dagster(
        [
            "asset",
            "materialize",
            "-m",
            "stock_pipeline.definitions",
            "--select",
            "intraday_prices",
            "--partition-range",
            "2026-11-23|AAPL...2026-11-24|MSFT",
        ],
        env,
    )
    assert ranged.returncode == 0, ranged.stderr[-3000:]

    with connect(isolated_paths / "warehouse", read_only=True) as con:
        days = con.execute(
            "SELECT symbol, session_date::VARCHAR FROM intraday_prices GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert days == [
        ("AAPL", "2026-11-23"),
        ("AAPL", "2026-11-24"),
        ("AAPL", "2026-11-25"),
        ("MSFT", "2026-11-23"),
        ("MSFT", "2026-11-24"),
    ]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_materialized_partitions(dg.AssetKey("intraday_prices"))) == 5
        assert len(instance.get_runs()) == 2  # the range is one run, not four
