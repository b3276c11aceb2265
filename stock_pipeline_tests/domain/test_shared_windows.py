from datetime import date

from stock_pipeline.domain.shared_windows import shared_window_days
from stock_pipeline.domain.trading_calendar import sessions_between
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW

NOW = DEFAULT_TEST_NOW  # Wednesday 2026-11-25, after the close
DAYS = sessions_between(date(2026, 11, 16), date(2026, 11, 25))


def test_a_symbols_other_backfill_days_ride_along() -> None:
    wanted = {"AAPL": DAYS, "MSFT": DAYS}
    extra = shared_window_days([("AAPL", DAYS[0])], wanted, set(), "5m", NOW)
    assert extra == [("AAPL", d) for d in DAYS[1:]]  # MSFT is not being fetched here


def test_days_being_fetched_or_already_stored_are_not_repeated() -> None:
    wanted = {"AAPL": DAYS}
    fetching = [("AAPL", DAYS[0]), ("AAPL", DAYS[1])]
    extra = shared_window_days(fetching, wanted, {("AAPL", DAYS[2])}, "5m", NOW)
    assert extra == [("AAPL", d) for d in DAYS[3:]]


def test_days_yahoo_does_not_serve_are_left_out() -> None:
    old = date(2026, 9, 1)  # beyond the 60-day lookback of 5m bars
    future = date(2026, 11, 27)  # has not opened at NOW
    wanted = {"AAPL": [old, DAYS[-2], future]}
    extra = shared_window_days([("AAPL", DAYS[-1])], wanted, set(), "5m", NOW)
    assert extra == [("AAPL", DAYS[-2])]


def test_one_minute_bars_reach_back_thirty_days_only() -> None:
    wanted = {"AAPL": [date(2026, 10, 20), date(2026, 11, 20)]}
    extra = shared_window_days([("AAPL", date(2026, 11, 24))], wanted, set(), "1m", NOW)
    assert extra == [("AAPL", date(2026, 11, 20))]
