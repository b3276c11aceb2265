"""Splits and dividends as data: parsing Yahoo's events, dividends as paid, split factors."""

from datetime import UTC, date, datetime

import pandas as pd

from stock_pipeline.domain.corporate_actions import (
    as_paid,
    chart_events,
    frame_events,
    split_factor,
    splits_stale,
)

# 2026-06-15 09:30 New York (the split's open) and 2026-03-03 09:30 (a dividend's).
SPLIT_TS = 1781530200
DIVIDEND_TS = 1772548200
RESULT = {
    "timestamp": [SPLIT_TS],  # no bar on the dividend's day: it is kept all the same
    "events": {
        "splits": {
            str(SPLIT_TS): {
                "date": SPLIT_TS,
                "numerator": 4,
                "denominator": 1,
                "splitRatio": "4:1",
            }
        },
        "dividends": {str(DIVIDEND_TS): {"amount": 0.2, "date": DIVIDEND_TS}},
    },
}


def test_chart_events_are_read_from_the_answer_itself() -> None:
    events = chart_events("SPLT", RESULT)
    assert events.to_dict("records") == [
        {"symbol": "SPLT", "ex_date": date(2026, 6, 15), "kind": "split", "value": 4.0},
        {"symbol": "SPLT", "ex_date": date(2026, 3, 3), "kind": "dividend", "value": 0.2},
    ]
    assert chart_events("SPLT", {"timestamp": []}).empty


def test_a_dividend_before_a_split_is_put_back_to_the_cash_paid_then() -> None:
    # Yahoo divides the 0.80 paid in March by the 4:1 split of June: it sends 0.20.
    paid = as_paid(chart_events("SPLT", RESULT), [])
    assert paid.set_index("kind")["value"].to_dict() == {"split": 4.0, "dividend": 0.8}
    # A split only stored (listed by an earlier answer) counts the same.
    only_dividend = chart_events("SPLT", RESULT).query("kind == 'dividend'")
    assert as_paid(only_dividend, [(date(2026, 6, 15), 4.0)])["value"].tolist() == [0.8]
    # A dividend after the split is untouched.
    later = only_dividend.assign(ex_date=[date(2026, 9, 1)])
    assert as_paid(later, [(date(2026, 6, 15), 4.0)])["value"].tolist() == [0.2]


def test_split_factor_multiplies_every_later_split() -> None:
    splits = [(date(2024, 6, 10), 10.0), (date(2026, 6, 15), 4.0)]
    days = [date(2024, 6, 7), date(2024, 6, 10), date(2026, 6, 12), date(2026, 6, 15)]
    assert split_factor(days, splits).tolist() == [40.0, 4.0, 4.0, 1.0]


def test_events_of_a_daily_frame() -> None:
    frame = pd.DataFrame(
        {
            "date": [date(2026, 6, 12), date(2026, 6, 15)],
            "dividends": [0.0, 0.25],
            "stock_splits": [0.0, 4.0],
        }
    )
    assert frame_events("X", frame)[["kind", "value"]].values.tolist() == [
        ["split", 4.0],
        ["dividend", 0.25],
    ]


def test_splits_are_stale_once_a_session_opened_after_the_last_check() -> None:
    friday_evening = datetime(2026, 6, 12, 21, 0, tzinfo=UTC)
    monday_before_open = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
    monday_after_open = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
    assert splits_stale(None, friday_evening)
    assert not splits_stale(friday_evening, monday_before_open)
    assert splits_stale(friday_evening, monday_after_open)
    assert not splits_stale(monday_after_open, monday_after_open)
