"""Daily moves beyond ±40 % that no split explains."""

from datetime import date

import pandas as pd
import pytest

from stock_pipeline.domain.moves import daily_moves, unexplained
from stock_pipeline.domain.verdicts import DAILY_MOVE, OHLC_SANE, history_partition_verdicts

D = [date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 12), date(2026, 6, 15)]


def test_a_100x_print_is_flagged_on_its_day_and_the_day_after() -> None:
    moves = daily_moves("MSFT", D, [400.0, 40_000.0, 401.0, 402.0], None)
    bad = unexplained(moves)
    assert [m.day for m in bad] == [D[1], D[2]]
    assert str(bad[0]) == "MSFT 2026-06-11: close 40000 after 400 on 2026-06-10 (+9900%)"
    assert bad[1].change == pytest.approx(401 / 40_000 - 1)


def test_a_split_explains_its_drop_even_across_a_gap_of_stored_sessions() -> None:
    splits = [(date(2026, 6, 15), 4.0)]
    moves = daily_moves("SPLT", [D[3]], [50.77], (D[0], 203.08), splits)
    assert unexplained(moves) == [] and moves[0].split == 4.0
    # The same drop without the split is flagged; a reverse split explains a jump.
    assert len(unexplained(daily_moves("SPLT", [D[3]], [50.77], (D[0], 203.08)))) == 1
    reverse = daily_moves("RVS", [D[1]], [10.0], (D[0], 1.0), [(D[1], 0.1)])
    assert unexplained(reverse) == []


def test_moves_within_the_limit_and_missing_closes_pass() -> None:
    moves = daily_moves("X", D, [100.0, 139.0, float("nan"), 83.0], (date(2026, 6, 9), 100.0))
    assert [m.day for m in moves] == [D[0], D[1], D[3]]  # NaN skipped, 139 → 83 compared
    assert [m.day for m in unexplained(moves)] == [D[3]]  # -40.3 %


def rows(symbol: str, year: int, closes: list[float]) -> pd.DataFrame:
    days = [date(year, 1, 2 + i) for i in range(len(closes))]
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": "1d",
            "date": days,
            "year": year,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": 1,
        }
    )


def test_a_partitions_first_session_is_compared_across_the_year_boundary() -> None:
    # 2026's first close against 2025's last: in the same frame, or stored before.
    frame = pd.concat([rows("AAA", 2025, [10.0, 10.5]), rows("AAA", 2026, [1050.0, 10.4])])
    judged = history_partition_verdicts(frame, splits={})
    assert judged["2025|AAA"][DAILY_MOVE].passed
    failed = judged["2026|AAA"][DAILY_MOVE]
    assert not failed.passed and "AAA 2026-01-02: close 1050 after 10.5 on 2025-01-03" in (
        failed.description
    )
    assert failed.metadata == {"moves_compared": 2, "unexplained_moves": 2}

    alone = rows("AAA", 2026, [1050.0, 10.4])
    stored = {("AAA", 2026): (date(2025, 12, 31), 10.5)}
    assert not history_partition_verdicts(alone, {}, stored)["2026|AAA"][DAILY_MOVE].passed
    # Without splits given, the asset judges sanity only (as before).
    assert set(history_partition_verdicts(alone)["2026|AAA"]) == {OHLC_SANE}


def test_large_and_small_prices_are_named_without_exponents() -> None:
    (move,) = daily_moves("BRK-A", [D[1]], [7_000_000.5], (D[0], 700_000.0))
    assert "close 7000000.5 after 700000 on" in str(move)
    (cheap,) = daily_moves("PNY", [D[1]], [0.0123], (D[0], 0.05), [(D[1], 0.5)])
    assert (
        str(cheap)
        == "PNY 2026-06-11: close 0.0123 after 0.05 on 2026-06-10 with a 0.5:1 split (-88%)"
    )
