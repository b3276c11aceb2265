"""The NYSE-session scope rule, judged from what Yahoo's quote reports."""

import pytest

from stock_pipeline.domain.instruments import Instrument, refusal, refusals, round_price


def quote(symbol: str, kind: str, exchange: str, zone: str, currency: str = "USD") -> Instrument:
    return Instrument.from_quote(
        {
            "symbol": symbol,
            "quoteType": kind,
            "exchange": exchange,
            "exchangeTimezoneName": zone,
            "currency": currency,
            "priceHint": 2,
        }
    )


@pytest.mark.parametrize(
    ("instrument", "why"),
    [
        (quote("EURUSD=X", "CURRENCY", "CCY", "Europe/London"), "currencies trade around"),
        (quote("BTC-USD", "CRYPTOCURRENCY", "CCC", "UTC"), "seven days a week"),
        (quote("CL=F", "FUTURE", "NYM", "America/New_York"), "futures trade"),
        (quote("VOD.L", "EQUITY", "LSE", "Europe/London", "GBp"), "listed on LSE in Europe/London"),
        (quote("RY.TO", "EQUITY", "TOR", "America/Toronto", "CAD"), "America/Toronto"),
        (quote("VFIAX", "MUTUALFUND", "NAS", "America/New_York"), "once a day"),
    ],
)
def test_instruments_outside_nyse_sessions_are_refused_with_yahoo_s_facts(
    instrument: Instrument, why: str
) -> None:
    line = refusal(instrument)
    assert line is not None and line.startswith(f"{instrument.symbol}: Yahoo reports")
    assert f"exchange {instrument.exchange}" in line
    assert f"timezone {instrument.timezone}" in line
    assert f"quoteType {instrument.quote_type}" in line
    assert why in line


@pytest.mark.parametrize(
    "instrument",
    [
        quote("AAPL", "EQUITY", "NMS", "America/New_York"),
        quote("SPY", "ETF", "PCX", "America/New_York"),
        quote("^GSPC", "INDEX", "SNP", "America/New_York"),
    ],
)
def test_us_equities_etfs_and_nyse_hours_indices_are_accepted(instrument: Instrument) -> None:
    assert refusal(instrument) is None


def test_a_quote_without_type_or_zone_is_refused_not_guessed() -> None:
    (line,) = refusals([Instrument("ODD", None, None, None, None, None)])
    assert "quoteType ?" in line and "not a US equity" in line


def test_prices_are_rounded_to_yahoo_s_price_hint() -> None:
    assert round_price(225.88999938964844, 2) == 225.89
    assert round_price(1.0876500606536865, 4) == 1.0877
    assert round_price(0.123456, None) == 0.12
