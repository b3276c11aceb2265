"""Resources: the Yahoo client follows its settings (or the environment); the warehouse its file."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from stock_pipeline.defs.resources import YAHOO_URL_ENV, WarehouseResource, YahooFinanceResource
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import INTRADAY_PRICES
from stock_pipeline_tests.support.frames import bars


def test_the_yahoo_client_goes_to_the_url_in_the_environment(
    fake_yahoo: FakeYahoo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(YAHOO_URL_ENV, fake_yahoo.url)
    client = YahooFinanceResource(requests_per_second=0).client()
    quotes = client.current_prices(["AAPL", "MSFT"])
    assert sorted(quotes["symbol"]) == ["AAPL", "MSFT"]
    assert any(r.kind == "quote" for r in fake_yahoo.log)


def test_a_configured_base_url_wins_over_the_environment(
    fake_yahoo: FakeYahoo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(YAHOO_URL_ENV, "http://127.0.0.1:9")  # nothing listens there
    resource = YahooFinanceResource(base_url=fake_yahoo.url, requests_per_second=0)
    assert list(resource.client().current_prices(["KO"])["symbol"]) == ["KO"]


def test_the_yahoo_rate_starts_at_its_setting_and_climbs_no_higher_than_its_ceiling(
    fake_yahoo: FakeYahoo,
) -> None:
    limiter = YahooFinanceResource(base_url=fake_yahoo.url).client().session.limiter
    assert limiter.policy is not None and limiter.policy.adaptive  # defaults: 5/s up to 10/s
    assert (limiter.rate, limiter.policy.ceiling) == (5.0, 10.0)
    resource = YahooFinanceResource(
        base_url=fake_yahoo.url, requests_per_second=3.0, max_requests_per_second=3.0
    )
    limiter = resource.client().session.limiter
    assert limiter.policy is not None and not limiter.policy.adaptive  # a fixed pace
    assert limiter.rate == 3.0


def test_the_warehouse_defaults_to_the_configured_lake_and_reads_what_it_wrote(
    duckdb_file: Path,
) -> None:
    warehouse = WarehouseResource()
    assert warehouse.database == Lake.at(duckdb_file)  # $STOCK_PIPELINE_WAREHOUSE
    day = date(2026, 11, 25)
    fetched = {"fetched_at": datetime(2026, 11, 25, 21, 30, tzinfo=UTC)}
    assert warehouse.write(INTRADAY_PRICES, bars("AAPL", day), fetched) == 78
    assert warehouse.write(INTRADAY_PRICES, bars("AAPL", day, price=50.0), fetched) == 78
    stored = warehouse.query(
        "SELECT count(*) AS n, max(close) AS close FROM intraday_prices WHERE symbol = ?", ["AAPL"]
    )
    assert stored.to_dict("records") == [{"n": 78, "close": 50.5}]


def test_an_explicit_warehouse_path(tmp_path: Path) -> None:
    warehouse = WarehouseResource(path=str(tmp_path / "other"))
    assert warehouse.database.catalog == f"sqlite:{tmp_path / 'other' / 'catalog.sqlite'}"
    shared = WarehouseResource(path="postgres:dbname=lake host=db", data_path="s3://b/lake")
    assert shared.database.catalog == "postgres:dbname=lake host=db"
    assert shared.database.data_path == "s3://b/lake/"
