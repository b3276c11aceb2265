from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from stock_pipeline.domain.consistency import DayBar
from stock_pipeline.domain.frame_verdicts import intraday_partition_verdicts
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    OHLC_SANE,
    UNIQUE_BARS,
    Verdict,
    daily_consistency,
    daily_sanity,
    intraday_verdicts,
    partition_summary,
    pick_intraday_day,
    run_verdict,
)
from stock_pipeline_tests.support.frames import bars

NY = ZoneInfo("America/New_York")
DAY = date(2026, 11, 25)
AFTER_CLOSE = pd.Timestamp(datetime(2026, 11, 25, 16, 30, tzinfo=NY))


def stored(frame: pd.DataFrame, fetched: pd.Timestamp = AFTER_CLOSE) -> pd.DataFrame:
    return frame.assign(fetched_at=fetched.tz_convert("UTC"))


def test_a_complete_final_day_passes_every_check() -> None:
    verdicts = intraday_verdicts(DAY, stored(bars("AAPL", DAY)))
    assert all(v.passed for v in verdicts.values())
    assert verdicts[OHLC_SANE].metadata == {
        "rows": 78,
        "nan_price": 0,
        "non_positive_price": 0,
        "ohlc_order": 0,
        "negative_volume": 0,
    }
    assert verdicts[BAR_COUNT].metadata["expected_5m"] == "77-78"


def test_failing_checks_carry_the_offending_row_counts() -> None:
    frame = stored(bars("AAPL", DAY))
    frame.loc[:2, "low"] = frame.loc[:2, "high"] + 1  # 3 rows out of order
    frame.loc[5, "close"] = float("nan")
    frame.loc[7, "volume"] = -1
    verdicts = intraday_verdicts(DAY, frame)
    ohlc = verdicts[OHLC_SANE]
    assert not ohlc.passed
    assert ohlc.metadata["ohlc_order"] == 3
    assert ohlc.metadata["nan_price"] == 1
    assert ohlc.metadata["negative_volume"] == 1
    assert "ohlc_order: 3 row(s)" in ohlc.description
    assert verdicts[UNIQUE_BARS].passed and verdicts[BARS_IN_SESSION].passed


def test_every_interval_of_a_partition_is_judged_on_its_own() -> None:
    five = stored(bars("AAPL", DAY, "5m"))
    hourly = stored(bars("AAPL", DAY, "60m")).iloc[:4]  # 3 bars short of 7
    verdicts = intraday_verdicts(DAY, pd.concat([five, hourly], ignore_index=True))
    count = verdicts[BAR_COUNT]
    assert not count.passed
    assert count.metadata["bars_5m"] == 78 and count.metadata["bars_60m"] == 4
    assert count.metadata["missing_or_extra_bars"] == 3  # 4 stored, all 7 due (no tolerance)
    assert "too_few_bars_60m" in count.description
    assert verdicts[OHLC_SANE].passed


def test_a_short_count_yahoo_confirmed_is_reported_but_passes() -> None:
    """Confirmed short (``short_sessions``) excuses too few bars of that interval only:
    not too many, and not another interval's gap."""
    five = stored(bars("AAPL", DAY, "5m")).iloc[:60]  # 18 bars short of 78
    hourly = stored(bars("AAPL", DAY, "60m")).iloc[:4]
    frame = pd.concat([five, hourly], ignore_index=True)
    count = intraday_verdicts(DAY, frame, confirmed_short=["5m"])[BAR_COUNT]
    assert not count.passed and "too_few_bars_60m" in count.description
    assert "too_few_bars_5m" not in count.description
    assert str(count.metadata["short_confirmed_5m"]).startswith("yes: 60 stored")
    alone = intraday_verdicts(DAY, five, confirmed_short=["5m"])[BAR_COUNT]
    assert alone.passed
    assert not intraday_verdicts(DAY, five)[BAR_COUNT].passed
    doubled = pd.concat([stored(bars("AAPL", DAY, "5m"))] * 2, ignore_index=True)
    assert not intraday_verdicts(DAY, doubled, confirmed_short=["5m"])[BAR_COUNT].passed


def test_a_provisional_day_is_judged_by_what_had_closed_when_fetched() -> None:
    fetched = pd.Timestamp(datetime(2026, 11, 25, 11, 2, tzinfo=NY))
    early = stored(bars("AAPL", DAY).iloc[:19], fetched)  # 18 closed + the forming bar
    verdict = intraday_verdicts(DAY, early)[BAR_COUNT]
    assert verdict.passed
    assert verdict.metadata["final_5m"] == "no (provisional)"
    assert not intraday_verdicts(DAY, stored(bars("AAPL", DAY), fetched))[BAR_COUNT].passed


def test_an_empty_partition_fails_only_the_count() -> None:
    verdicts = intraday_verdicts(DAY, stored(bars("AAPL", DAY)).iloc[0:0])
    assert [name for name, v in verdicts.items() if not v.passed] == [BAR_COUNT]


def daily_rows(day: date, close: float, fetched: pd.Timestamp = AFTER_CLOSE) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["AAPL"],
            "interval": ["1d"],
            "date": [day],
            "year": [day.year],
            "open": [100.0],
            "high": [101.0],
            "low": [99.0],
            "close": [close],
            "volume": [78_000],
            "fetched_at": [fetched.tz_convert("UTC")],
        }
    )


def test_daily_bars_on_a_closed_day_are_corrupt() -> None:
    verdict = daily_sanity(daily_rows(date(2026, 11, 26), 100.5))  # Thanksgiving
    assert not verdict.passed and verdict.metadata["non_session_date"] == 1
    assert daily_sanity(daily_rows(DAY, 100.5)).passed


def test_daily_bar_is_compared_only_when_both_sides_are_final() -> None:
    intraday = {DAY: DayBar(101.0, 99.0, 100.5, 78_000)}
    assert daily_consistency(daily_rows(DAY, 100.5), intraday).metadata == {
        "days_compared": 1,
        "days_mismatched": 0,
    }
    off = daily_consistency(daily_rows(DAY, 95.0), intraday)
    assert not off.passed and off.description.startswith("2026-11-25: close")
    during = pd.Timestamp(datetime(2026, 11, 25, 12, 0, tzinfo=NY))
    forming = daily_consistency(daily_rows(DAY, 95.0, during), intraday)
    assert forming.passed and forming.metadata["days_compared"] == 0


def test_the_default_interval_is_compared_first_and_only_if_complete() -> None:
    candidates = pd.DataFrame(
        {
            "symbol": ["AAPL"] * 3,
            "session_date": [DAY] * 3,
            "interval": ["1m", "5m", "60m"],
            "rows": [390, 70, 7],  # 5m is short
            "fetched_at": [AFTER_CLOSE.tz_convert("UTC")] * 3,
        }
    )
    row = pick_intraday_day(candidates)
    assert row is not None and row["interval"] == "1m"
    candidates.loc[1, "rows"] = 78
    row = pick_intraday_day(candidates)
    assert row is not None and row["interval"] == "5m"
    assert pick_intraday_day(candidates.iloc[0:0]) is None


def test_a_run_verdict_counts_sums_and_names_the_failing_partitions() -> None:
    by_partition = {
        f"2026-11-25|S{i:03d}": Verdict(True, "ok", {"rows": 78, "ohlc_order": 0})
        for i in range(60)
    }
    for i in (7, 3):
        by_partition[f"2026-11-25|S{i:03d}"] = Verdict(
            False, "ohlc_order: 2 row(s)", {"rows": 78, "ohlc_order": 2, "expected": "77-78"}
        )
    verdict = run_verdict(by_partition)
    assert not verdict.passed
    assert verdict.metadata["partitions_checked"] == 60
    assert verdict.metadata["partitions_failed"] == 2
    assert verdict.metadata["rows"] == 60 * 78 and verdict.metadata["ohlc_order"] == 4
    assert "expected" not in verdict.metadata  # text is per partition, not summed
    assert verdict.metadata["failed_partitions"] == {
        "2026-11-25|S003": "ohlc_order: 2 row(s)",
        "2026-11-25|S007": "ohlc_order: 2 row(s)",
    }
    assert verdict.description.startswith("2 of 60 partition(s) failed: 2026-11-25|S003: ")


def test_a_run_verdict_names_a_bounded_number_of_partitions() -> None:
    bad = {f"2026-11-25|S{i:04d}": Verdict(False, "no bars", {"rows": 0}) for i in range(5000)}
    verdict = run_verdict(bad)
    assert verdict.metadata["partitions_failed"] == 5000
    assert len(verdict.metadata["failed_partitions"]) == 50  # type: ignore[arg-type]
    assert verdict.description.endswith("(and 4990 more)")
    assert run_verdict({}).passed


def test_a_partitions_verdicts_become_metadata_entries_per_check() -> None:
    frame = pd.concat(
        [stored(bars("AAPL", DAY)), stored(bars("MSFT", DAY)).iloc[:-5]], ignore_index=True
    )
    judged = intraday_partition_verdicts(frame)
    assert sorted(judged) == ["2026-11-25|AAPL", "2026-11-25|MSFT"]
    assert partition_summary(judged["2026-11-25|AAPL"]) == {
        f"check/{name}": "passed" for name in (OHLC_SANE, UNIQUE_BARS, BARS_IN_SESSION, BAR_COUNT)
    }
    short = partition_summary(judged["2026-11-25|MSFT"])
    assert short[f"check/{BAR_COUNT}"].startswith("FAILED: too_few_bars_5m")
    assert short[f"check/{OHLC_SANE}"] == "passed"
