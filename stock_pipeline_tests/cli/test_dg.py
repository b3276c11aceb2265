"""`dg` (dagster-dg-cli) on the project: check, list, launch and dev, as a user runs them.

dg finds the project through ``[tool.dg]`` in pyproject.toml and loads the one Definitions in
stock_pipeline/definitions.py; each command runs here as its own process from the project root,
with the virtual environment active (as ``uv run dg`` has it) and a temporary DAGSTER_HOME.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.dagster_processes import (
    BIN,
    DagsterProcesses,
    free_port,
    prepare_home,
    wait_for,
)

DG = str(BIN / "dg")
# A session after the early close of the day after Thanksgiving: the example partition.
NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def dg_env(home: Path, extra: Mapping[str, str] = {}) -> dict[str, str]:
    return {
        **os.environ,
        "VIRTUAL_ENV": sys.prefix,
        "DAGSTER_HOME": str(home),
        "COLUMNS": "200",
        **extra,
    }


def run_dg(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DG, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def test_dg_check_defs_loads_the_project(tmp_path: Path) -> None:
    result = run_dg(["check", "defs"], dg_env(prepare_home(tmp_path / "home")))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dg_list_defs_lists_every_definition(tmp_path: Path) -> None:
    result = run_dg(["list", "defs", "--json"], dg_env(prepare_home(tmp_path / "home")))
    assert result.returncode == 0, result.stderr[-3000:]
    listed = json.loads(result.stdout)

    repository = defs.get_repository_def()
    assert {a["asset_key"] for a in listed["assets"]} == {
        key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
    }
    assert {"intraday_prices", "daily_prices", "stocks", "current_prices"} <= {
        a["asset_key"] for a in listed["assets"]
    }
    assert {j["name"] for j in listed["jobs"]} == {
        job.name for job in repository.get_all_jobs() if not job.name.startswith("__")
    }
    assert {s["name"] for s in listed["schedules"]} == {s.name for s in repository.schedule_defs}
    assert {s["name"] for s in listed["sensors"]} == {s.name for s in repository.sensor_defs}
    assert listed["schedules"] and listed["sensors"] and listed["asset_checks"]


@pytest.mark.integration
@pytest.mark.fake_yahoo(now=NOW)
def test_dg_launch_stores_one_partition(
    fake_yahoo: FakeYahoo, isolated_paths: Path, tmp_path: Path
) -> None:
    home = prepare_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    env = dg_env(
        home,
        {"STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url, "STOCK_PIPELINE_NOW": NOW.isoformat()},
    )

    result = run_dg(
        ["launch", "--assets", "intraday_prices", "--partition", "2026-11-27|AAPL"], env
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with connect(isolated_paths / "warehouse", read_only=True) as con:
        stored = con.execute(
            "SELECT symbol, session_date::VARCHAR, count(*) FROM intraday_prices GROUP BY ALL"
        ).fetchall()
    assert [(symbol, day) for symbol, day, _ in stored] == [("AAPL", "2026-11-27")]
    assert stored[0][2] > 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_materialized_partitions(dg.AssetKey("intraday_prices")) == {
            "2026-11-27|AAPL"
        }


@pytest.mark.integration
def test_dg_dev_serves_the_ui_and_its_graphql(tmp_path: Path) -> None:
    home = prepare_home(tmp_path / "home")
    port = free_port()
    log = home / "dg-dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DG, "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=dg_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ui = DagsterProcesses(home=home, url=f"http://127.0.0.1:{port}", logs={"dg dev": log})
    ui.processes["dg dev"] = process
    try:

        def loaded() -> bool:
            ui.check_alive()
            try:
                return ui.location_loaded()
            except urllib.error.URLError:
                return False

        wait_for("dg dev to serve the code location", loaded, timeout=240)
        assert ui.graphql("{ version }")["version"]
        nodes = ui.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        assert {"/".join(node["assetKey"]["path"]) for node in nodes} == {
            key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
        }
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
