"""Dead-symbol quarantine: the counting rules, the store, and real failed runs end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dagster as dg

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
from stock_pipeline_tests.support.quarantine import quarantine_symbol

if TYPE_CHECKING:
    pass


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
