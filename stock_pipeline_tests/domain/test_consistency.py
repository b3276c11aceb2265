import pytest

from stock_pipeline.domain.consistency import DayBar, mismatches

DAILY = DayBar(high=110.0, low=90.0, close=105.0, volume=43_020_700)


def test_agreement_within_tolerance_is_no_mismatch() -> None:
    # AAPL 2025-06-16 (yfinance issue 2542): hourly volume summed to 34,120,917 of 43,020,700.
    intraday = DayBar(high=109.5, low=90.4, close=104.6, volume=34_120_917)
    assert mismatches(DAILY, intraday) == []


@pytest.mark.parametrize(
    ("intraday", "field"),
    [
        (DayBar(110.0, 90.0, 102.0, 40_000_000), "close"),  # 2.9% off
        (DayBar(112.0, 90.0, 105.0, 40_000_000), "high"),
        (DayBar(110.0, 88.0, 105.0, 40_000_000), "low"),
        (DayBar(110.0, 90.0, 105.0, 20_000_000), "volume"),  # 46%
        (DayBar(110.0, 90.0, 105.0, 45_000_000), "volume"),  # 105%: more than the day
    ],
)
def test_each_field_beyond_tolerance_is_named(intraday: DayBar, field: str) -> None:
    found = mismatches(DAILY, intraday)
    assert len(found) == 1 and found[0].startswith(f"{field}:")


def test_a_zero_daily_volume_with_intraday_volume_is_a_mismatch() -> None:
    daily = DayBar(110.0, 90.0, 105.0, 0)
    assert mismatches(daily, DayBar(110.0, 90.0, 105.0, 5)) == ["volume: daily 0 vs intraday 5"]
    assert mismatches(daily, DayBar(110.0, 90.0, 105.0, 0)) == []
