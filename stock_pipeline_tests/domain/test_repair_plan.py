"""What the sensors fetch: the lookback window, closed sessions, gaps, the symbol file."""

from datetime import UTC, date, datetime, timedelta

from stock_pipeline.domain.repair_plan import closed_sessions, gaps, lookback_sessions
from stock_pipeline.domain.slice_state import SliceState
from stock_pipeline.domain.trading_calendar import sessions_between

EVERY_DAY = sessions_between(date(2026, 1, 2), date(2026, 12, 31))


LONG_AGO = date(2020, 1, 1)  # retention keeps everything: Yahoo's lookback binds first
KEPT_30_DAYS = date(2026, 10, 25)


def test_lookback_stops_a_day_inside_yahoo_s_limit_and_at_sessions_that_opened() -> None:
    morning = datetime(2026, 11, 24, 14, tzinfo=UTC)  # 09:00 New York: not open yet
    days = lookback_sessions(morning, "5m", EVERY_DAY, LONG_AGO)
    assert days[-1] == date(2026, 11, 23)
    assert days[0] == date(2026, 9, 28)  # 60 days back, plus a day of margin: 09-26 14:00Z
    assert lookback_sessions(morning, "60m", EVERY_DAY, LONG_AGO)[0] == date(2026, 1, 2)  # 730 days
    only_partitions = [d for d in EVERY_DAY if d >= date(2026, 11, 1)]
    assert lookback_sessions(morning, "5m", only_partitions, LONG_AGO)[0] == date(2026, 11, 2)


def test_lookback_stops_where_retention_deletes() -> None:
    morning = datetime(2026, 11, 24, 14, tzinfo=UTC)
    assert lookback_sessions(morning, "5m", EVERY_DAY, KEPT_30_DAYS)[0] == date(
        2026, 10, 26
    )  # 30 days
    assert lookback_sessions(morning, "60m", EVERY_DAY, KEPT_30_DAYS)[0] == date(2026, 10, 26)


def test_a_session_counts_as_closed_once_the_grace_period_after_its_close_ran_out() -> None:
    days = [date(2026, 11, 25), date(2026, 11, 27)]  # full day; 13:00 early close
    assert closed_sessions(days, datetime(2026, 11, 27, 18, 14, tzinfo=UTC)) == days[:1]
    assert closed_sessions(days, datetime(2026, 11, 27, 18, 15, tzinfo=UTC)) == days
    longer = timedelta(minutes=30)
    assert closed_sessions(days, datetime(2026, 11, 27, 18, 15, tzinfo=UTC), longer) == days[:1]


def test_gaps_are_missing_provisional_or_short_newest_first_and_bounded() -> None:
    d1, d2 = date(2026, 11, 23), date(2026, 11, 24)
    states = [
        SliceState("AAPL", d1, 0, 78, False),  # missing
        SliceState("AAPL", d2, 78, 78, True),  # complete
        SliceState("MSFT", d1, 40, 78, False),  # provisional
        SliceState("MSFT", d2, 77, 78, True, fewest=77),  # one dropped no-trade bar: complete
        SliceState("KO", d1, 60, 78, True, fewest=77, fetches=1),  # short: fetch again
        SliceState("KO", d2, 60, 78, True, fewest=77, fetches=3, confirmed=True),  # accepted
        SliceState("IBM", d2, 0, 78, False),  # missing, but a run is fetching it
    ]
    order = ["AAPL", "MSFT", "KO", "IBM"]
    assert gaps(states, order, {("IBM", d2)}, 10) == [("AAPL", d1), ("MSFT", d1), ("KO", d1)]
    assert gaps(states, order, set(), 1) == [("IBM", d2)]
