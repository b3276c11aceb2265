"""Reference assets: current prices for many symbols in one request, and stock profiles."""

from stock_pipeline_tests.support.pipeline import Pipeline, failure_metadata


def test_current_prices_for_many_symbols_take_one_request(pipeline: Pipeline) -> None:
    symbols = [f"S{i:03d}" for i in range(120)]
    pipeline.register(symbols)
    assert pipeline.materialize("current_prices").success
    assert pipeline.fake.requests["quote"] == 1
    prices = pipeline.query("SELECT symbol, price FROM current_prices")
    assert len(prices) == 120 and (prices["price"] > 0).all()


def test_stocks_profile(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "MSFT"])
    assert pipeline.materialize("stocks", "AAPL").success
    row = pipeline.query("SELECT * FROM stocks")
    assert list(row["symbol"]) == ["AAPL"]
    assert row["long_name"][0] and row["sector"][0] and row["exchange"][0]


def test_one_unknown_profile_does_not_lose_the_others(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL", "ZZGONE", "MSFT"])
    result = pipeline.materialize("stocks", "AAPL", "MSFT")
    assert not result.success
    assert pipeline.materialized("stocks") == {"AAPL", "MSFT"}
    failed = failure_metadata(result)["failed_partitions"]
    assert list(failed) == ["ZZGONE"] and "SymbolNotFoundError" in failed["ZZGONE"]
    assert set(pipeline.query("SELECT symbol FROM stocks")["symbol"]) == {"AAPL", "MSFT"}
