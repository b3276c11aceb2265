"""A warehouse file written by the layout before raw storage, migrated into the lake, keeps
every row and is put back to as traded once its symbols' splits are known."""

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from stock_pipeline.fake_yahoo import FakeYahoo, SplitEvent
from stock_pipeline.services.corporate_actions import refresh_actions
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.migrate import migrate
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

# The layout today's main writes (warehouse.tables before corporate_actions).
LEGACY = [
    'CREATE TABLE IF NOT EXISTS "intraday_prices" ("symbol" VARCHAR NOT NULL, "interval" '
    'VARCHAR NOT NULL, "session_date" DATE NOT NULL, "ts" TIMESTAMPTZ NOT NULL, "open" DOUBLE, '
    '"high" DOUBLE, "low" DOUBLE, "close" DOUBLE, "volume" BIGINT, "fetched_at" TIMESTAMPTZ, '
    'PRIMARY KEY ("symbol", "interval", "ts"))',
    'CREATE TABLE IF NOT EXISTS "daily_prices" ("symbol" VARCHAR NOT NULL, "interval" VARCHAR '
    'NOT NULL, "date" DATE NOT NULL, "year" INTEGER NOT NULL, "open" DOUBLE, "high" DOUBLE, '
    '"low" DOUBLE, "close" DOUBLE, "adj_close" DOUBLE, "volume" BIGINT, "dividends" DOUBLE, '
    '"stock_splits" DOUBLE, "fetched_at" TIMESTAMPTZ, PRIMARY KEY ("symbol", "interval", "date"))',
    'CREATE TABLE IF NOT EXISTS "current_prices" ("symbol" VARCHAR NOT NULL, "price" DOUBLE, '
    '"currency" VARCHAR, "market_state" VARCHAR, "market_time" TIMESTAMPTZ, "previous_close" '
    'DOUBLE, "day_volume" BIGINT, "fetched_at" TIMESTAMPTZ, PRIMARY KEY ("symbol"))',
    'CREATE TABLE IF NOT EXISTS "stocks" ("symbol" VARCHAR NOT NULL, "long_name" VARCHAR, '
    '"short_name" VARCHAR, "exchange" VARCHAR, "currency" VARCHAR, "sector" VARCHAR, '
    '"industry" VARCHAR, "quote_type" VARCHAR, "fetched_at" TIMESTAMPTZ, PRIMARY KEY ("symbol"))',
]
FETCHED = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)  # after SPLT's 4:1 split of 2026-06-15


def write_legacy_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for ddl in LEGACY:
            con.execute(ddl)
        # As Yahoo sent them on 2026-06-20: Friday's 203.08 already divided by 4.
        con.execute(
            "INSERT INTO daily_prices VALUES "
            "('SPLT', '1d', '2026-06-12', 2026, 50.5, 51.0, 50.25, 50.77, 50.77, 4000, 0, 0, ?),"
            "('SPLT', '1d', '2026-06-15', 2026, 51.0, 52.0, 50.5, 51.2, 51.2, 900, 0, 4, ?),"
            "('MSFT', '1d', '2026-06-12', 2026, 400.0, 401.0, 399.0, 400.5, 400.5, 10, 0, 0, ?)",
            [FETCHED, FETCHED, FETCHED],
        )
        con.execute(
            "INSERT INTO intraday_prices VALUES "
            "('SPLT', '5m', '2026-06-12', '2026-06-12 13:30:00+00', 50.5, 50.6, 50.4, 50.55, "
            "400, ?)",
            [FETCHED],
        )


def test_a_file_of_the_old_layout_keeps_its_rows_and_is_rebased_by_the_first_refresh(
    duckdb_file: Path, fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    old = duckdb_file.parent / "warehouse.duckdb"
    write_legacy_file(old)
    migrate(old, Lake.from_settings())  # columns, new tables, views; legacy rows listed
    with connect(duckdb_file) as con:
        assert con.execute("SELECT count(*) FROM daily_prices").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM intraday_prices").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM legacy_price_rows").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM daily_prices_adjusted").fetchone() == (3,)
    client = YahooClient(
        YahooSettings(base_url=fake_yahoo.url, requests_per_second=None, cache_dir=str(tmp_path))
    )
    refresh = refresh_actions(client, Lake.from_settings(), ["SPLT", "MSFT"])
    assert sorted(refresh.refreshed) == ["MSFT", "SPLT"]
    with connect(duckdb_file, read_only=True) as con:
        raw = con.execute(
            "SELECT symbol, date, close, volume FROM daily_prices ORDER BY symbol, date"
        ).df()
        view = con.execute(
            "SELECT symbol, date, close FROM daily_prices_adjusted ORDER BY symbol, date"
        ).df()
        bar = con.execute("SELECT close, volume FROM intraday_prices").fetchone()
        pending = con.execute("SELECT count(*) FROM legacy_price_rows").fetchone()
    raw["date"] = pd.to_datetime(raw["date"]).dt.date
    assert raw.values.tolist() == [
        ["MSFT", date(2026, 6, 12), 400.5, 10],
        ["SPLT", date(2026, 6, 12), 203.08, 1000],  # as traded
        ["SPLT", date(2026, 6, 15), 51.2, 900],  # after the split: unchanged
    ]
    assert view["close"].tolist() == [400.5, 50.77, 51.2]  # today's basis again
    assert bar == (202.2, 100)
    assert pending == (0,)
    # A second refresh changes nothing more.
    refresh_actions(client, Lake.from_settings(), ["SPLT"])
    with connect(duckdb_file, read_only=True) as con:
        again = con.execute("SELECT close FROM daily_prices ORDER BY symbol, date").fetchall()
    assert again == [(400.5,), (203.08,), (51.2,)]


@pytest.mark.fake_yahoo(splits={"WKS": (SplitEvent(date(2026, 6, 17), 2),)})
def test_a_legacy_weekly_row_with_a_split_inside_its_week_stays_on_the_weeks_end_basis(
    duckdb_file: Path, fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    old = duckdb_file.parent / "warehouse.duckdb"
    write_legacy_file(old)
    with duckdb.connect(str(old)) as con:
        # Yahoo's weekly bars as sent on 2026-06-20: the week of the split on today's basis.
        con.execute(
            "INSERT INTO daily_prices VALUES "
            "('WKS', '1wk', '2026-06-08', 2026, 50.0, 52.0, 49.0, 51.0, 51.0, 800, 0, 0, ?),"
            "('WKS', '1wk', '2026-06-15', 2026, 51.0, 53.0, 50.0, 52.0, 52.0, 900, 0, 2, ?)",
            [FETCHED, FETCHED],
        )
    client = YahooClient(
        YahooSettings(base_url=fake_yahoo.url, requests_per_second=None, cache_dir=str(tmp_path))
    )
    migrate(old, Lake.from_settings())
    refresh_actions(client, Lake.from_settings(), ["WKS"])
    with connect(duckdb_file, read_only=True) as con:
        raw = con.execute(
            "SELECT close, volume FROM daily_prices WHERE symbol = 'WKS' ORDER BY date"
        ).fetchall()
        view = con.execute(
            "SELECT close, volume FROM daily_prices_adjusted WHERE symbol = 'WKS' ORDER BY date"
        ).fetchall()
    # The week before the split goes back to as traded; the split's own week is already on
    # the basis of its last session, so it stays, and the view gives both back as sent.
    assert raw == [(102.0, 400), (52.0, 900)]
    assert view == [(51.0, 800), (52.0, 900)]
