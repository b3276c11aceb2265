"""A stored (symbol, session): missing, provisional until final, short until repaired or
confirmed, complete."""

from datetime import date

import pytest

from stock_pipeline.domain.slice_state import SliceState, short_fetch_outcome

DAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("rows", "final", "fetches", "confirmed", "status", "complete", "settled"),
    [
        (0, False, 0, False, "missing", False, False),
        (0, True, 0, False, "missing", False, False),  # final, but nothing came
        (40, False, 0, False, "provisional", False, False),
        (78, False, 0, False, "provisional", False, False),  # all bars, yet not final
        (77, True, 0, False, "complete", True, True),  # a dropped no-trade bar is allowed
        (78, True, 0, False, "complete", True, True),
        (70, True, 1, False, "short", False, False),  # to be fetched again
        (70, True, 3, True, "short_confirmed", False, True),  # accepted: not fetched again
        (70, False, 3, True, "provisional", False, False),  # a later provisional answer
        (78, True, 3, True, "complete", True, True),  # repaired by a forced fetch
    ],
)
def test_status_follows_rows_finality_and_confirmation(
    rows: int,
    final: bool,
    fetches: int,
    confirmed: bool,
    status: str,
    complete: bool,
    settled: bool,
) -> None:
    state = SliceState(
        "AAPL",
        DAY,
        rows=rows,
        expected=78,
        final=final,
        fewest=77,
        fetches=fetches,
        confirmed=confirmed,
    )
    assert (state.status, state.complete, state.settled) == (status, complete, settled)


def test_without_a_tolerance_every_missing_bar_is_short() -> None:
    assert SliceState("AAPL", DAY, rows=77, expected=78, final=True).status == "short"


def test_a_short_session_is_confirmed_after_the_first_fetch_and_the_allowed_refetches() -> None:
    assert short_fetch_outcome(0, 2) == (1, False)  # first final fetch: short
    assert short_fetch_outcome(1, 2) == (2, False)  # re-fetch 1
    assert short_fetch_outcome(2, 2) == (3, True)  # re-fetch 2: confirmed
    assert short_fetch_outcome(0, 0) == (1, True)  # no re-fetch allowed
