"""The whole-frame intraday verdicts must equal, partition by partition, what
``intraday_verdicts`` says of each partition alone (the per-partition reference)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from stock_pipeline.domain.frame_verdicts import (
    intraday_partition_verdicts,
    stored_intraday_verdicts,
)
from stock_pipeline.domain.partition_keys import SymbolDay, intraday_key
from stock_pipeline.domain.trading_calendar import DEFAULT_FINAL_GRACE, session_close
from stock_pipeline.domain.verdicts import (
    BAR_COUNT,
    BARS_IN_SESSION,
    OHLC_SANE,
    UNIQUE_BARS,
    Verdict,
    intraday_verdicts,
)
from stock_pipeline_tests.support.frames import bars

NY = ZoneInfo("America/New_York")
NORMAL = date(2026, 11, 25)
EARLY = date(2026, 11, 27)  # the day after Thanksgiving: 13:00 close
DAYS = (NORMAL, EARLY, date(2026, 11, 24))
INTERVALS = ("5m", "60m", "15m", "1m")
Judged = dict[str, dict[str, Verdict]]


def reference(
    frame: pd.DataFrame,
    grace: timedelta = DEFAULT_FINAL_GRACE,
    confirmed: Mapping[str, Iterable[str]] | None = None,
) -> Judged:
    """Each (symbol, day) group through ``intraday_verdicts``, as the asset judged before."""
    judged: Judged = {}
    for (symbol, stamp), rows in frame.groupby(["symbol", "session_date"], sort=False):
        day = pd.Timestamp(stamp).date()
        key = intraday_key(str(symbol), day)
        judged[key] = intraday_verdicts(day, rows, grace, (confirmed or {}).get(key, ()))
    return judged


def fetched(day: date, after_close: timedelta) -> pd.Timestamp:
    return pd.Timestamp(session_close(day) + after_close).tz_convert("UTC")


def partition(
    symbol: str, day: date, interval: str, when: pd.Timestamp, keep: int | None = None
) -> pd.DataFrame:
    return bars(symbol, day, interval).iloc[:keep].assign(fetched_at=when)


def assert_same(fast: Judged, slow: Judged) -> None:
    assert list(fast) == list(slow)  # the partitions, in the order they first appear
    for key, verdicts in slow.items():
        assert list(fast[key]) == list(verdicts), key
        for name, verdict in verdicts.items():
            assert fast[key][name] == verdict, (key, name)
            assert list(fast[key][name].metadata) == list(verdict.metadata), (key, name)


def varied_frame() -> pd.DataFrame:
    """Clean and broken partitions over a normal and an early-close day."""
    final = fetched(NORMAL, timedelta(minutes=30))
    parts = [
        partition("CLEAN", NORMAL, "5m", final),
        partition("CLEAN", NORMAL, "60m", final),
        partition("CLEAN", EARLY, "5m", fetched(EARLY, timedelta(hours=3))),
        partition("EARLYPROV", EARLY, "5m", fetched(EARLY, -timedelta(minutes=47)), keep=33),
        partition("PROV", NORMAL, "5m", fetched(NORMAL, -timedelta(hours=4, minutes=58)), 19),
        partition("PROVBAD", NORMAL, "5m", fetched(NORMAL, -timedelta(hours=4, minutes=58))),
        partition("GRACE", NORMAL, "60m", fetched(NORMAL, timedelta(minutes=5))),
        # Fetched as a bar closed (11:00), and between two closes (10:57).
        partition("ONCLOSE", NORMAL, "5m", fetched(NORMAL, -timedelta(hours=5)), keep=19),
        partition("BETWEEN", NORMAL, "5m", fetched(NORMAL, -timedelta(hours=5, minutes=3)), 19),
        partition("SHORT", NORMAL, "5m", final, keep=60),
        partition("SHORT", NORMAL, "60m", final, keep=4),
        partition("CONFIRMED", NORMAL, "5m", final, keep=60),
        partition("MISSING1", NORMAL, "5m", final, keep=77),
    ]
    frame = pd.concat(parts, ignore_index=True)
    broken = [
        ("DUP", lambda f: pd.concat([f, f.iloc[[3, 4]]], ignore_index=True)),
        (
            "SLOT",
            lambda f: f.assign(ts=f["ts"].mask(f.index == 5, f["ts"][4] + pd.Timedelta("2min"))),
        ),
        (
            "OUTSIDE",
            lambda f: f.assign(ts=f["ts"].mask(f.index == 0, f["ts"][0] - pd.Timedelta("5min"))),
        ),
        (
            "LATE",
            lambda f: f.assign(ts=f["ts"].mask(f.index == 77, f["ts"][77] + pd.Timedelta("5min"))),
        ),
        (
            "OFFGRID",
            lambda f: f.assign(ts=f["ts"].mask(f.index == 10, f["ts"][10] + pd.Timedelta("1min"))),
        ),
        ("NAN", lambda f: f.assign(close=f["close"].mask(f.index == 7))),
        ("NEGVOL", lambda f: f.assign(volume=f["volume"].mask(f.index == 9, -1))),
        ("ZERO", lambda f: f.assign(open=f["open"].mask(f.index == 2, 0.0))),
        ("ORDER", lambda f: f.assign(low=f["low"].mask(f.index < 3, 200.0))),
    ]
    for symbol, damage in broken:
        frame = pd.concat(
            [frame, damage(partition(symbol, NORMAL, "5m", final))], ignore_index=True
        )
    # A bar dated to the next session: it lands in that partition, outside its session.
    wrong = partition("WRONGDATE", NORMAL, "5m", final).iloc[:3].assign(session_date=DAYS[2])
    return pd.concat([frame, partition("WRONGDATE", NORMAL, "5m", final), wrong], ignore_index=True)


def test_a_varied_frame_gets_the_per_partition_verdicts() -> None:
    frame = varied_frame()
    confirmed = {intraday_key("CONFIRMED", NORMAL): ["5m"], intraday_key("SHORT", NORMAL): ["5m"]}
    fast = intraday_partition_verdicts(frame, confirmed_short=confirmed)
    assert_same(fast, reference(frame, confirmed=confirmed))
    # The frame holds what it should: every kind of failure, and clean partitions.
    assert fast[intraday_key("CLEAN", NORMAL)][BAR_COUNT].passed
    assert not fast[intraday_key("SLOT", NORMAL)][UNIQUE_BARS].passed
    assert not fast[intraday_key("OUTSIDE", NORMAL)][BARS_IN_SESSION].passed
    assert not fast[intraday_key("OFFGRID", NORMAL)][BARS_IN_SESSION].passed
    assert not fast[intraday_key("NAN", NORMAL)][OHLC_SANE].passed
    assert not fast[intraday_key("PROVBAD", NORMAL)][BAR_COUNT].passed
    assert fast[intraday_key("PROV", NORMAL)][BAR_COUNT].passed
    assert fast[intraday_key("CONFIRMED", NORMAL)][BAR_COUNT].passed
    assert not fast[intraday_key("SHORT", NORMAL)][BAR_COUNT].passed
    assert not fast[intraday_key("WRONGDATE", DAYS[2])][BARS_IN_SESSION].passed


def test_read_back_partitions_match_the_check_and_empty_ones_have_no_bars() -> None:
    """As the check step reads it: session_date as datetime64, timestamps in microseconds,
    some partitions asked for without a row."""
    frame = varied_frame()
    stored = frame.assign(
        session_date=pd.to_datetime(frame["session_date"]).astype("datetime64[us]"),
        ts=frame["ts"].astype("datetime64[us, UTC]"),
        fetched_at=frame["fetched_at"].astype("datetime64[us, UTC]"),
    )
    asked = sorted(
        {
            SymbolDay(str(s), pd.Timestamp(d).date())
            for s, d in zip(frame["symbol"], frame["session_date"], strict=True)
        }
        | {SymbolDay("GONE", NORMAL), SymbolDay("CLEAN", DAYS[2])}
    )
    confirmed = {("CONFIRMED", NORMAL): {"5m"}, ("GONE", NORMAL): {"5m"}}
    got = stored_intraday_verdicts(stored, asked, DEFAULT_FINAL_GRACE, confirmed)
    groups = {
        (str(symbol), pd.Timestamp(day).normalize().date()): rows
        for (symbol, day), rows in stored.groupby(["symbol", "session_date"])
    }
    expected = {
        p.key: intraday_verdicts(
            p.day,
            groups.get((p.symbol, p.day), stored.iloc[0:0]),
            DEFAULT_FINAL_GRACE,
            confirmed.get((p.symbol, p.day), ()),
        )
        for p in asked
    }
    assert got == expected
    gone = got[intraday_key("GONE", NORMAL)]
    assert gone[BAR_COUNT] == Verdict(False, "no bars stored for this partition", {"rows": 0})
    assert stored_intraday_verdicts(stored.iloc[0:0], asked[:2]) == {
        p.key: intraday_verdicts(p.day, stored.iloc[0:0]) for p in asked[:2]
    }


def test_a_fetch_time_in_nanoseconds_is_read_as_the_reference_reads_it() -> None:
    """The reference keeps microseconds (to_pydatetime): a fetch a nanosecond before
    the grace ends is provisional there, and must be here; one at its end is final."""
    edge = fetched(NORMAL, DEFAULT_FINAL_GRACE)
    frame = pd.concat(
        [
            partition("EARLY", NORMAL, "5m", edge - pd.Timedelta(1, "ns")),
            partition("ONTIME", NORMAL, "5m", edge),
        ],
        ignore_index=True,
    )
    with pytest.warns(UserWarning, match="nanoseconds"):
        slow = reference(frame)
    assert_same(intraday_partition_verdicts(frame), slow)
    assert slow[intraday_key("EARLY", NORMAL)][BAR_COUNT].metadata["final_5m"] == "no (provisional)"
    assert slow[intraday_key("ONTIME", NORMAL)][BAR_COUNT].metadata["final_5m"] == "yes"


def test_an_unreadable_frame_is_judged_partition_by_partition() -> None:
    """Naive timestamps and a closed day fail as the per-partition rules fail."""
    frame = partition("NAIVE", NORMAL, "5m", fetched(NORMAL, timedelta(hours=1)))
    naive = frame.assign(fetched_at=frame["fetched_at"].dt.tz_localize(None))
    with pytest.raises(TypeError):
        reference(naive)
    with pytest.raises(TypeError):
        intraday_partition_verdicts(naive)
    closed = frame.assign(session_date=date(2026, 11, 28))  # a Saturday
    with pytest.raises(ValueError):
        intraday_partition_verdicts(closed)


def random_frame(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """A few partitions, each a random interval mix, fetch time and damage."""
    parts: list[pd.DataFrame] = []
    confirmed: dict[str, list[str]] = {}
    for s in range(int(rng.integers(1, 5))):
        symbol, day = f"R{s}", DAYS[int(rng.integers(0, 2))]
        when = fetched(day, timedelta(minutes=int(rng.integers(-400, 120))))
        chosen = rng.choice(INTERVALS, size=int(rng.integers(1, 3)), replace=False)
        for interval in chosen:
            f = bars(symbol, day, str(interval)).assign(fetched_at=when)
            if rng.random() < 0.4:
                f = f.iloc[: int(rng.integers(1, len(f) + 1))]
            if rng.random() < 0.3:
                f = f.drop(index=rng.choice(f.index, size=min(len(f) - 1, 2), replace=False))
            damage = rng.integers(0, 12)
            i = int(rng.integers(0, len(f)))
            row = f.index[i]
            if damage == 0:
                f = pd.concat([f, f.iloc[[i]]])
            elif damage == 1:
                f.loc[row, "ts"] += pd.Timedelta(minutes=int(rng.integers(1, 4)))
            elif damage == 2:
                f.loc[row, "ts"] -= pd.Timedelta(hours=int(rng.integers(1, 9)))
            elif damage == 3:
                f.loc[row, "high"] = np.nan
            elif damage == 4:
                f.loc[row, "volume"] = -5
            elif damage == 5:
                f.loc[row, "low"] = 500.0
            elif damage == 6:
                f.loc[row, "fetched_at"] = when + pd.Timedelta(hours=5)
            if rng.random() < 0.2:
                confirmed.setdefault(intraday_key(symbol, day), []).append(str(interval))
            parts.append(f)
    frame = pd.concat(parts, ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))], confirmed


def test_random_frames_get_the_per_partition_verdicts() -> None:
    rng = np.random.default_rng(20261127)
    failed = 0
    for _ in range(150):
        frame, confirmed = random_frame(rng)
        grace = timedelta(minutes=int(rng.choice([0, 15, 60])))
        fast = intraday_partition_verdicts(frame, grace, confirmed)
        assert_same(fast, reference(frame, grace, confirmed))
        failed += sum(not v.passed for verdicts in fast.values() for v in verdicts.values())
    assert failed  # the damage did reach the verdicts


def test_only_partitions_with_a_broken_rule_are_judged_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Clean partitions (the common case) never reach the per-partition pandas rules."""
    day_rows = bars("X", NORMAL).assign(fetched_at=fetched(NORMAL, timedelta(hours=1)))
    frame = pd.concat([day_rows] * 200, ignore_index=True)
    frame["symbol"] = np.repeat([f"S{i:03d}" for i in range(200)], len(day_rows))
    frame.loc[len(day_rows) * 7 + 3, "close"] = np.nan
    frame.loc[len(day_rows) * 9 + 4, "ts"] += pd.Timedelta(minutes=2)
    slow = reference(frame)
    alone: list[str] = []

    def counted(day: date, rows: pd.DataFrame, *args: object) -> dict[str, Verdict]:
        alone.append(str(rows["symbol"].iloc[0]))
        return intraday_verdicts(day, rows, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("stock_pipeline.domain.frame_verdicts.intraday_verdicts", counted)
    assert_same(intraday_partition_verdicts(frame), slow)
    assert alone == ["S007", "S009"]
