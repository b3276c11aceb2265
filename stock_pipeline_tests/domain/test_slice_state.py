"""A stored (symbol, session): missing, provisional until fetched after the close, then complete."""

from datetime import date

import pytest

from stock_pipeline.domain.slice_state import SliceState

DAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("rows", "final", "status", "complete"),
    [
        (0, False, "missing", False),
        (0, True, "missing", False),  # fetched after the close, but nothing came
        (40, False, "provisional", False),
        (78, False, "provisional", False),  # all bars, yet fetched while trading
        (77, True, "complete", True),  # a dropped null bar still completes a final session
        (78, True, "complete", True),
    ],
)
def test_status_follows_rows_and_finality(
    rows: int, final: bool, status: str, complete: bool
) -> None:
    state = SliceState("AAPL", DAY, rows=rows, expected=78, final=final)
    assert (state.status, state.complete) == (status, complete)
