"""The Dagster UI path end to end, in headless Chromium against real Dagster processes.

``dagster-webserver`` and ``dagster-daemon`` run on a temporary DAGSTER_HOME with the fake
Yahoo and a temporary DuckDB file, on the suite's pinned clock. The test does what a user
does: opens ``intraday_prices``, launches a backfill of 2 symbols × 3 trading days from the
UI's own dialog, waits for the UI to call it complete, checks every partition's status and
row count in the UI against DuckDB, opens a partition's chart, and turns a schedule on.
Screenshots of every step land in ``artifacts/ui/`` (or $STOCK_PIPELINE_UI_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from playwright.sync_api import Page, expect

from stock_pipeline.defs.partitions import SYMBOLS as SYMBOLS_PARTITIONS
from stock_pipeline.defs.schedules import SCHEDULES
from stock_pipeline.domain.partition_keys import intraday_key
from stock_pipeline.domain.trading_calendar import latest_session, sessions_back
from stock_pipeline.fake_yahoo import DEFAULT_TEST_NOW, FakeYahoo
from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline.warehouse.tables import connect
from stock_pipeline_tests.support.browser import Steps, chromium_page
from stock_pipeline_tests.support.dagster_processes import (
    LOCATION,
    DagsterProcesses,
    dagster_processes,
    prepare_home,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

SYMBOLS = ("AAPL", "MSFT")
DAYS = sessions_back(latest_session(DEFAULT_TEST_NOW), 3)
KEYS = sorted(intraday_key(s, d) for s in SYMBOLS for d in DAYS)
BACKFILL_TIMEOUT_MS = 240_000  # the daemon looks at backfills every 30 s; runs start slowly
DONE = re.compile(r"Succeeded|Failed|Canceled|Completed")


@pytest.fixture
def artifacts() -> Path:
    directory = Path(os.environ.get("STOCK_PIPELINE_UI_ARTIFACTS") or PROJECT_DIR / "artifacts/ui")
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    print(f"UI screenshots: {directory}")
    return directory


@pytest.fixture
def dagster_ui(
    tmp_path: Path,
    duckdb_file: Path,
    fake_yahoo: FakeYahoo,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[DagsterProcesses]:
    home = prepare_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(SYMBOLS_PARTITIONS, list(SYMBOLS))
    env = {
        "STOCK_PIPELINE_YAHOO_URL": fake_yahoo.url,
        "STOCK_PIPELINE_WAREHOUSE": str(duckdb_file),
        "STOCK_PIPELINE_DATA_DIR": str(duckdb_file.parent),
        "STOCK_PIPELINE_NOW": os.environ["STOCK_PIPELINE_NOW"],  # conftest's pinned clock
    }
    with dagster_processes(home, env) as processes:
        yield processes


def stored_rows(database: Path) -> dict[str, int]:
    """Rows per intraday partition key, as DuckDB holds them."""
    with connect(database, read_only=True) as con:
        found = con.execute(
            "SELECT symbol, session_date, count(*) FROM intraday_prices "
            "WHERE interval = '5m' GROUP BY ALL"
        ).fetchall()
    return {intraday_key(symbol, day): int(n) for symbol, day, n in found}


def metadata_cell(page: Page, label: str) -> Any:
    """The value cell of a metadata entry in the partition details table."""
    return page.locator(f"xpath=//tr[td[1][normalize-space()='{label}']]/td[2]").first


def schedule_state(ui: DagsterProcesses, name: str) -> tuple[str, float | None]:
    """The schedule's status and next tick, as the instance (not the page) reports them."""
    data = ui.graphql(
        """query ($selector: ScheduleSelector!) {
             scheduleOrError(scheduleSelector: $selector) {
               __typename
               ... on Schedule {
                 scheduleState { status }
                 futureTicks(limit: 1) { results { timestamp } }
               }
             }
           }""",
        {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "scheduleName": name,
            }
        },
    )["scheduleOrError"]
    ticks = data["futureTicks"]["results"]
    return data["scheduleState"]["status"], (ticks[0]["timestamp"] if ticks else None)


def test_backfill_and_schedule_from_the_dagster_ui(
    dagster_ui: DagsterProcesses, duckdb_file: Path, artifacts: Path
) -> None:
    assert SCHEDULES, "stock_pipeline.defs.schedules defines no schedule to turn on"
    schedule = SCHEDULES[0]
    ui = dagster_ui.url
    first, last = DAYS[0].isoformat(), DAYS[-1].isoformat()
    with chromium_page() as page:
        steps = Steps(page, artifacts, dagster_ui.logs)

        with steps.step("intraday_prices asset"):
            page.goto(f"{ui}/assets/intraday_prices")
            page.get_by_role("button", name="Materialize…").click()

        with steps.step("backfill dialog: 2 symbols x 3 days"):
            dates = page.get_by_placeholder("ex: ", exact=False)
            dates.fill(f"[{first}...{last}]")
            dates.press("Enter")
            page.get_by_text("Select a partition or create one").click()
            page.get_by_placeholder("Filter partitions").wait_for()
            for symbol in SYMBOLS:
                page.get_by_role("menuitem").filter(has_text=symbol).click()
            page.keyboard.press("Escape")  # closes the symbol list, not the dialog
            expect(page.get_by_text(f"{len(KEYS)} partitions", exact=True)).to_be_visible()

        with steps.step("backfill launched"):
            page.get_by_role("button", name="Launch backfill").click()
            link = page.locator("a[href*='/runs/b/']").first
            link.wait_for()
            backfill_id = (link.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[-1]
            assert backfill_id, "the UI gave no link to the backfill it created"

        with steps.step("backfill complete"):
            page.goto(f"{ui}/runs/b/{backfill_id}")
            status = page.get_by_text("Status", exact=True).first.locator(
                "xpath=following-sibling::*[1]"
            )
            expect(status).to_have_text(DONE, timeout=BACKFILL_TIMEOUT_MS)
            expect(status).to_have_text("Succeeded")
            expect(page.get_by_text("100% completed")).to_be_visible()

        stored = stored_rows(duckdb_file)
        with steps.step("partition status matches DuckDB"):
            assert sorted(stored) == KEYS, f"DuckDB holds {sorted(stored)}, expected {KEYS}"
            page.goto(f"{ui}/assets/intraday_prices?view=partitions")
            expect(page.get_by_text(f"Materialized ({len(KEYS)})")).to_be_visible()
            expect(page.get_by_text("Failed (0)")).to_be_visible()

        for key in KEYS:
            with steps.step(f"partition {key}"):
                page.goto(f"{ui}/assets/intraday_prices?view=partitions&partition={quote(key)}")
                expect(page.get_by_text("Materialized", exact=True).first).to_be_visible()
                expect(metadata_cell(page, "rows")).to_have_text(str(stored[key]))
                expect(metadata_cell(page, "interval")).to_have_text("5m")
                metadata_cell(page, "chart").scroll_into_view_if_needed()

        with steps.step(f"chart of {KEYS[-1]}"):
            metadata_cell(page, "chart").get_by_text("[Show Markdown]").click()
            chart = page.get_by_role("dialog").locator("img")
            expect(chart).to_have_attribute("alt", re.compile(KEYS[-1].split("|")[1]))
            chart.wait_for()
            width = chart.evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width > 100, f"the chart image did not load (natural width {width})"
            page.get_by_role("button", name="Close").click()

        with steps.step(f"schedule {schedule.name} turned on"):
            page.goto(f"{ui}/locations/{LOCATION}/schedules/{schedule.name}")
            running = page.locator("tr", has_text="Running").locator("input[type=checkbox]")
            expect(running).not_to_be_checked()
            running.locator("xpath=..").click()  # the switch's label: the input is hidden
            expect(running).to_be_checked()
            next_tick = page.locator("tr", has_text="Next tick")
            expect(next_tick).to_be_visible()
            status, tick = schedule_state(dagster_ui, schedule.name)
            assert status == "RUNNING", f"the instance says the schedule is {status}"
            assert tick is not None and tick > datetime.now(UTC).timestamp()
            when = datetime.fromtimestamp(tick, ZoneInfo(schedule.execution_timezone or "UTC"))
            expect(next_tick).to_contain_text(f"{when:%b} {when.day}, {when:%-I:%M:%S %p}")
