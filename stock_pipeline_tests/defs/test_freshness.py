from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pytest

from stock_pipeline.definitions import defs
from stock_pipeline.defs.freshness import freshness_check_schedule, stale_symbols
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.quarantine import quarantine_symbol

NY = ZoneInfo("America/New_York")
WED = date(2026, 11, 25)


def store(database: Path, frame: pd.DataFrame) -> None:
    fetched = pd.Timestamp(datetime(2026, 11, 25, 16, 5, tzinfo=NY)).tz_convert("UTC")
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, frame.assign(fetched_at=fetched))


def judge(instance: dg.DagsterInstance, as_of: datetime) -> dg.AssetCheckEvaluation:
    result = defs.resolve_job_def("intraday_freshness_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"intraday_prices_fresh": {"config": {"as_of": as_of.isoformat()}}}},
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_stale_symbols_name_their_newest_bar() -> None:
    due = pd.Timestamp("2026-11-25 20:55", tz="UTC")
    newest = {"AAPL": due, "MSFT": due - pd.Timedelta(minutes=5)}
    assert stale_symbols(["AAPL", "MSFT", "NVDA"], newest, due) == {
        "MSFT": "2026-11-25T15:50:00-05:00",
        "NVDA": "none stored",
    }


@pytest.fixture
def wednesday(instance: dg.DagsterInstance, duckdb_file: Path) -> dg.DagsterInstance:
    """AAPL complete on Wednesday; MSFT stopped after the 11:00 bar."""
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT"])
    store(duckdb_file, bars("AAPL", WED))
    store(duckdb_file, bars("MSFT", WED).iloc[:19])
    return instance


def test_a_symbol_behind_the_calendar_is_stale(wednesday: dg.DagsterInstance) -> None:
    evaluation = judge(wednesday, datetime(2026, 11, 25, 18, 0, tzinfo=NY))
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["stale_symbols"].value == 1
    assert evaluation.description is not None and "MSFT" in evaluation.description
    assert "AAPL" not in evaluation.description.split(":", 1)[1]


def test_closed_days_ask_for_nothing_new(wednesday: dg.DagsterInstance) -> None:
    thanksgiving = judge(wednesday, datetime(2026, 11, 26, 15, 0, tzinfo=NY))
    assert thanksgiving.metadata["newest_bar_due"].value == "2026-11-25T15:55:00-05:00"
    morning = judge(wednesday, datetime(2026, 11, 25, 11, 0, tzinfo=NY))  # due 09:40
    assert morning.passed


def test_quarantined_symbols_are_not_expected_to_be_fresh(wednesday: dg.DagsterInstance) -> None:
    quarantine_symbol(wednesday, "MSFT", "SymbolNotFoundError: test", datetime.now(UTC))
    assert judge(wednesday, datetime(2026, 11, 25, 18, 0, tzinfo=NY)).passed


def test_the_schedule_judges_trading_days_only() -> None:
    holiday = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 10, 45, tzinfo=NY)
    )
    skipped = freshness_check_schedule.evaluate_tick(holiday)
    assert skipped.skip_message is not None and "NYSE closed" in skipped.skip_message
    trading = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 25, 10, 45, tzinfo=NY)
    )
    (request,) = freshness_check_schedule.evaluate_tick(trading).run_requests or []
    config = request.run_config["ops"]["intraday_prices_fresh"]["config"]
    assert config == {"as_of": "2026-11-25T10:45:00-05:00"}
