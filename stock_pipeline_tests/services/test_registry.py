"""The symbol universe: added only when Yahoo knows every symbol, removed without losing data."""

import dagster as dg
import pytest

from stock_pipeline.defs.resources import YahooFinanceResource
from stock_pipeline.domain.errors import SymbolNotFoundError
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.services.registry import (
    add_symbols,
    registered_symbols,
    remove_symbols,
    screen_with_yahoo,
)
from stock_pipeline.yahoo.client import YahooClient


@pytest.fixture
def client(fake_yahoo: FakeYahoo) -> YahooClient:
    return YahooFinanceResource(base_url=fake_yahoo.url, requests_per_second=0).client()


def test_add_registers_new_symbols_in_order_and_reports_known_ones(
    instance: dg.DagsterInstance, client: YahooClient
) -> None:
    first = add_symbols(instance, ["MSFT", "AAPL"], client)
    assert (first.added, first.already, first.unknown) == (["MSFT", "AAPL"], [], [])
    second = add_symbols(instance, ["AAPL", "KO"], client)
    assert (second.added, second.already) == (["KO"], ["AAPL"])
    assert registered_symbols(instance) == ["MSFT", "AAPL", "KO"]


def test_one_unknown_symbol_refuses_the_whole_request(
    instance: dg.DagsterInstance, client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    with pytest.raises(SymbolNotFoundError, match="ZZNOTREAL: Yahoo does not know") as refused:
        add_symbols(instance, ["IBM", "ZZNOTREAL"], client)
    assert "nothing was added" in str(refused.value)
    assert registered_symbols(instance) == []
    assert sum(1 for r in fake_yahoo.log if r.kind == "quote") == 1  # one request for both


def test_known_symbols_are_not_asked_about_again(
    instance: dg.DagsterInstance, client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    add_symbols(instance, ["AAPL"], client)
    asked = len(fake_yahoo.log)
    assert add_symbols(instance, ["AAPL"], client).already == ["AAPL"]
    assert len(fake_yahoo.log) == asked


def test_without_a_client_symbols_are_added_unchecked(instance: dg.DagsterInstance) -> None:
    assert add_symbols(instance, ["ZZLOCAL"], None).added == ["ZZLOCAL"]
    assert registered_symbols(instance) == ["ZZLOCAL"]


def test_screening_names_every_symbol_yahoo_has_no_quote_for(
    client: YahooClient, fake_yahoo: FakeYahoo
) -> None:
    with pytest.raises(SymbolNotFoundError, match="ZZNOTREAL,ZZGONE: Yahoo does not know"):
        screen_with_yahoo(client, ["AAPL", "ZZNOTREAL", "KO", "ZZGONE"])
    assert sum(1 for r in fake_yahoo.log if r.kind == "quote") == 1


def test_screening_reports_what_yahoo_says_about_known_symbols(client: YahooClient) -> None:
    found = screen_with_yahoo(client, ["AAPL", "KO"])
    assert sorted(found) == ["AAPL", "KO"]
    assert found["AAPL"].symbol == "AAPL"


def test_remove_stops_only_registered_symbols(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("symbols", ["AAPL", "MSFT", "KO"])
    assert remove_symbols(instance, ["MSFT", "ZZNEVER"]) == ["MSFT"]
    assert registered_symbols(instance) == ["AAPL", "KO"]
