"""Per-symbol traits: fixed for a symbol whatever its spelling, known companies named right."""

import numpy as np

from stock_pipeline.fake_yahoo.profiles import EXCHANGES, profile_for, row_levels


def test_known_companies_keep_their_names_and_exchange() -> None:
    apple = profile_for("AAPL")
    assert (apple.long_name, apple.sector, apple.exchange) == ("Apple Inc.", "Technology", "NMS")
    assert apple.full_exchange_name == "NasdaqGS"
    assert apple.dividend_yield > 0


def test_any_symbol_gets_stable_plausible_traits() -> None:
    first = profile_for("QWERTY")
    assert profile_for("qwerty") == first  # same traits whatever the case
    assert first.exchange in EXCHANGES and first.long_name.startswith("Qwerty ")
    assert 5.0 <= first.base_price <= 800.0
    assert 0.008 <= first.daily_vol <= 0.03
    assert 8_400 <= first.first_trade_day <= 16_800
    assert profile_for("ASDFGH").seed != first.seed


def test_levels_for_many_rows_match_one_profile_at_a_time() -> None:
    profiles = [profile_for("AAPL"), profile_for("KO"), profile_for("AAPL")]
    instants = np.array([1.7e9, 1.75e9, 1.8e9])
    together = row_levels(profiles, instants)
    apart = [p.level(np.array([t]))[0] for p, t in zip(profiles, instants, strict=True)]
    assert np.allclose(together, apart)
    assert (together > 0).all()
    assert row_levels([], np.array([])).shape == (0,)
