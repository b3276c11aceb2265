"""stock-pipeline health and status, run as a person would, on a pinned clock."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from dagster._daemon.types import DaemonHeartbeat

from stock_pipeline.cli import main
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.reporting.health import SCHEDULE_NAME_TAG, SCHEDULED_TIME_TAG
from stock_pipeline.services.instance import get_instance
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.quarantine import quarantine_symbol

Cli = Callable[..., Result]
NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 17:00 New York, Wednesday
CLOSE_TICK = "2026-11-25T21:00:00+00:00"


@pytest.fixture
def cli(isolated_paths: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    monkeypatch.setenv("STOCK_PIPELINE_NOW", NOW.isoformat())

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def store(duckdb_file: Path, symbol: str, day: date) -> None:
    fetched = pd.Timestamp(NOW)
    WarehouseResource(path=str(duckdb_file)).write(
        INTRADAY_PRICES, bars(symbol, day).assign(fetched_at=fetched)
    )


def test_health_fails_with_every_reason_on_a_fresh_install(cli: Cli) -> None:
    result = cli("health")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("FAIL  warehouse") and "does not exist" in line for line in lines)
    assert any(line.startswith("ok    instance") for line in lines)
    assert any(line.startswith("FAIL  daemon") and "SCHEDULER" in line for line in lines)
    assert any(
        line.startswith("FAIL  scheduled_sync") and "16:00 close of 2026-11-25" in line
        for line in lines
    )


def test_health_passes_when_every_part_works(cli: Cli, duckdb_file: Path) -> None:
    store(duckdb_file, "AAPL", date(2026, 11, 25))
    instance = get_instance()
    for daemon in instance.get_required_daemon_types():
        instance.add_daemon_heartbeat(DaemonHeartbeat(NOW.timestamp() - 10, daemon, None, None))
    instance.add_run(
        dg.DagsterRun(
            job_name="intraday_prices_job",
            status=dg.DagsterRunStatus.SUCCESS,
            tags={SCHEDULE_NAME_TAG: "intraday_hourly_schedule", SCHEDULED_TIME_TAG: CLOSE_TICK},
        )
    )
    result = cli("health")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("healthy")
    stale = cli("health", "--daemon-stale-after", "5")
    assert stale.exit_code == 1 and "FAIL  daemon" in stale.output


def test_status_shows_bars_gaps_and_quarantine(cli: Cli, duckdb_file: Path) -> None:
    instance = get_instance()
    instance.add_dynamic_partitions("symbols", ["AAPL", "ZZDEAD"])
    quarantine_symbol(instance, "ZZDEAD", "SymbolNotFoundError: ZZDEAD: unknown", NOW)
    store(duckdb_file, "AAPL", date(2026, 11, 25))
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert "gaps at 5m over closed sessions 2026-10-26 … 2026-11-25" in result.output
    assert "AAPL: 5m 2026-11-25 15:55" in result.output
    assert "QUARANTINED since" in result.output and "SymbolNotFoundError" in result.output
    as_json = json.loads(cli("status", "--json").output)
    aapl = next(s for s in as_json["symbols"] if s["symbol"] == "AAPL")
    assert aapl["latest"] == {"5m": "2026-11-25 15:55"}
    assert "2026-11-25" not in aapl["missing"] and len(aapl["missing"]) == 22


def test_status_refuses_an_unknown_interval(cli: Cli) -> None:
    result = cli("status", "--interval", "7m")
    assert result.exit_code == 2 and "unknown intraday interval" in result.output
