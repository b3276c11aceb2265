"""Dead-symbol quarantine: the counting rules, the store, and real failed runs end to end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.definitions import defs
from stock_pipeline.defs.run_sensors import dead_symbols_sensor
from stock_pipeline.defs.schedules import intraday_hourly_schedule
from stock_pipeline.domain.errors import NoDataError, RateLimitedError, SymbolNotFoundError
from stock_pipeline.domain.failures import PartitionFailure
from stock_pipeline.services.quarantine import (
    RunOutcome,
    apply_outcomes,
    enable_symbol,
    load_health,
    quarantined_symbols,
    run_outcome,
)
from stock_pipeline.services.run_report import PartitionReport, RunReport
from stock_pipeline_tests.support.pipeline import Pipeline
from stock_pipeline_tests.support.quarantine import quarantine_symbol

if TYPE_CHECKING:
    from dagster._core.definitions.sensor_definition import SensorExecutionData

NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
NOT_FOUND = PartitionFailure.from_error(SymbolNotFoundError("ZZDEAD", "Yahoo does not know it"))
EMPTY = PartitionFailure.from_error(NoDataError("ZZDEAD 2026-11-24", "Yahoo sent no bars"))
RATE_LIMITED = PartitionFailure.from_error(RateLimitedError("ZZDEAD", "Yahoo answered 429"))


def dead(run_id: str, reason: PartitionFailure = NOT_FOUND) -> RunOutcome:
    return RunOutcome(run_id, {"ZZDEAD": reason.text}, frozenset())


def alive(run_id: str) -> RunOutcome:
    return RunOutcome(run_id, {}, frozenset({"ZZDEAD"}))


def test_the_third_consecutive_dead_run_quarantines() -> None:
    state, newly = apply_outcomes({}, [dead("r1"), dead("r2", EMPTY)], 3, NOW)
    assert state["ZZDEAD"].failures == 2 and not state["ZZDEAD"].quarantined and not newly
    state, newly = apply_outcomes(state, [dead("r3")], 3, NOW)
    assert [r.symbol for r in newly] == ["ZZDEAD"]
    assert state["ZZDEAD"].quarantined_at == NOW.isoformat()
    assert (state["ZZDEAD"].failures, state["ZZDEAD"].last_run_id) == (3, "r3")


def test_a_stored_partition_resets_the_count_and_transient_failures_do_not_count() -> None:
    runs = [dead("r1"), dead("r2"), alive("r3"), dead("r4"), dead("r5")]
    state, newly = apply_outcomes({}, runs, 3, NOW)
    assert not newly and state["ZZDEAD"].failures == 2
    assert not RATE_LIMITED.no_data and EMPTY.no_data and NOT_FOUND.no_data
    # A rate-limited run is not a "dead" outcome, so it neither counts nor resets.
    limited = run_outcome(RunReport("r6", "FAILURE", failures={"2026-11-24|ZZDEAD": RATE_LIMITED}))
    state, newly = apply_outcomes(state, [limited], 3, NOW)
    assert state["ZZDEAD"].failures == 2
    state, newly = apply_outcomes(state, [alive("r7")], 3, NOW)
    assert "ZZDEAD" not in state


def test_one_empty_day_of_a_live_symbol_is_not_a_dead_run() -> None:
    report = RunReport(
        "r1",
        "FAILURE",
        stored={"2026-11-23|HALT": PartitionReport("2026-11-23|HALT", 78, 1, "5m")},
        failures={"2026-11-24|HALT": EMPTY, "2026-11-24|ZZDEAD": NOT_FOUND},
    )
    outcome = run_outcome(report)
    assert outcome.dead == {"ZZDEAD": NOT_FOUND.text}
    assert outcome.stored == {"HALT"}


def test_failures_while_quarantined_are_ignored_and_enable_starts_afresh(
    instance: dg.DagsterInstance,
) -> None:
    state, _ = apply_outcomes({}, [dead("r1"), dead("r2"), dead("r3"), dead("r4")], 3, NOW)
    assert state["ZZDEAD"].failures == 3 and state["ZZDEAD"].last_run_id == "r3"
    state, _ = apply_outcomes(state, [alive("r5")], 3, NOW)
    assert state["ZZDEAD"].quarantined  # only a person lifts it

    quarantine_symbol(instance, "ZZDEAD", "by hand", NOW)
    assert list(quarantined_symbols(instance)) == ["ZZDEAD"]
    lifted = enable_symbol(instance, "ZZDEAD")
    assert lifted is not None and lifted.last_reason == "by hand"
    assert quarantined_symbols(instance) == {} and load_health(instance) == {}
    assert enable_symbol(instance, "ZZDEAD") is None


@pytest.fixture
def sync(pipeline: Pipeline) -> Callable[[str, str], dg.ExecuteInProcessResult]:
    """An intraday sync of a partition range through the real job, as a schedule runs it."""
    job = defs.resolve_job_def("intraday_prices_job")

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        return job.execute_in_process(
            instance=pipeline.instance,
            raise_on_error=False,
            tags={
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            },
        )

    return run


def scan(instance: dg.DagsterInstance, cursor: str | None) -> SensorExecutionData:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return dead_symbols_sensor.evaluate_tick(context)


def test_three_runs_without_data_quarantine_until_a_person_enables(
    pipeline: Pipeline,
    sync: Callable[[str, str], dg.ExecuteInProcessResult],
) -> None:
    pipeline.register(["AAPL", "ZZDEAD", "ZZEMPTY", "MSFT"])
    assert not sync("2026-11-24|AAPL", "2026-11-24|MSFT").success
    assert not sync("2026-11-25|AAPL", "2026-11-25|MSFT").success
    first = scan(pipeline.instance, None)
    assert "read 2 finished run(s)" in (first.skip_message or "")
    assert quarantined_symbols(pipeline.instance) == {}
    assert {s: h.failures for s, h in load_health(pipeline.instance).items()} == {
        "ZZDEAD": 2,
        "ZZEMPTY": 2,
    }

    assert not sync("2026-11-23|AAPL", "2026-11-23|MSFT").success
    second = scan(pipeline.instance, first.cursor)
    assert "quarantined ZZDEAD, ZZEMPTY" in (second.skip_message or "")
    found = quarantined_symbols(pipeline.instance)
    assert found["ZZDEAD"].last_reason.startswith("SymbolNotFoundError")
    assert found["ZZEMPTY"].last_reason.startswith("NoDataError")
    assert scan(pipeline.instance, second.cursor).skip_message == "read 0 finished run(s)"

    # Left out of the next hourly tick: the range splits around the two dead symbols.
    tick = intraday_hourly_schedule.evaluate_tick(
        dg.build_schedule_context(
            instance=pipeline.instance,
            scheduled_execution_time=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
        )
    )
    assert [r.tags.get("dagster/partition") for r in tick.run_requests or []] == [
        "2026-11-24|AAPL",
        "2026-11-24|MSFT",
    ]

    # Seen and lifted from the command line (same instance: DAGSTER_HOME is the test's).
    def cli(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    listing = cli("symbols", "quarantined")
    assert listing.exit_code == 0
    assert "ZZDEAD" in listing.output and "3 failed run(s)" in listing.output
    assert "stock-pipeline symbols enable ZZDEAD ZZEMPTY" in listing.output
    enabled = cli("symbols", "enable", "zzdead", "AAPL")
    assert "ZZDEAD: enabled" in enabled.output and "AAPL: not quarantined" in enabled.output
    assert list(quarantined_symbols(pipeline.instance)) == ["ZZEMPTY"]


def test_the_threshold_is_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stock_pipeline.settings import automation as automation_settings

    assert automation_settings.quarantine_after() == 3
    monkeypatch.setenv("STOCK_PIPELINE_QUARANTINE_AFTER", "5")
    assert automation_settings.quarantine_after() == 5
    monkeypatch.setenv("STOCK_PIPELINE_QUARANTINE_AFTER", "0")
    with pytest.raises(ValueError, match="at least 1"):
        automation_settings.quarantine_after()
