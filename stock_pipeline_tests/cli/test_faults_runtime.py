"""Runtime faults (issue 14): what a user sees, how long it takes, what is kept.

Each case is reproduced against the fake Yahoo and a real warehouse: Ctrl-C/SIGTERM in
every phase of a sync (fetch, back-off, Dagster's step-retry wait), a `kill -9`, permanent
errors, a reader holding a transaction open on the lake, a 429 storm. The stored rows are
compared before and after. The figures asserted here are the ones in
docs/troubleshooting.md ("Runtime faults").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yfinance.data
from click.testing import CliRunner, Result

from stock_pipeline.cli import main
from stock_pipeline.domain.partition_keys import SymbolDay
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import connect
from stock_pipeline.yahoo.batch import fetch_intraday
from stock_pipeline.yahoo.client import YahooClient, YahooSettings

BIN = Path(sys.executable).parent / "stock-pipeline"
EXIT_BOUND = 10.0  # seconds from the signal to the process's exit
STARTUP_BOUND = 180.0  # a busy 2-core machine may take long to start a command
PERMANENT_BOUND = 30.0  # seconds for a permanent error to fail the command (was 204-252 s)
DAY = "2026-11-24"

Cli = Callable[..., Result]


@pytest.fixture
def env(
    fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of the commands: this test's warehouse, instance and fake Yahoo."""
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    return dict(os.environ)


@pytest.fixture
def cli(env: dict[str, str]) -> Cli:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def seeded(cli: Cli, duckdb_file: Path) -> pd.DataFrame:
    """AAPL registered and its DAY stored: the rows no fault may change."""
    assert cli("symbols", "add", "--no-verify", "AAPL").exit_code == 0
    first = cli("sync-intraday", "--symbols", "AAPL", "--date", DAY)
    assert first.exit_code == 0, first.output
    rows = stored_rows(duckdb_file)
    assert len(rows) == 78
    return rows


def stored_rows(database: Path) -> pd.DataFrame:
    with connect(database, read_only=True) as con:
        return con.execute("SELECT * FROM intraday_prices ORDER BY symbol, ts").df()


class Command:
    """A stock-pipeline command in its own process, its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited ({self.proc.returncode}) before {what}: {self.text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s: {self.text}")
            time.sleep(0.05)

    def stderr_has(self, text: str) -> Callable[[], bool]:
        return lambda: any(text in line for line in self.stderr)

    def signal_and_time(self, signum: int) -> tuple[int, float, list[str]]:
        """Send ``signum``; the exit code, seconds to exit, stderr lines after the signal."""
        before = len(self.stderr)
        sent = time.monotonic()
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        took = time.monotonic() - sent
        for reader in self._readers:
            reader.join(timeout=5)
        return code, took, self.stderr[before:]

    @property
    def text(self) -> str:
        return "\n".join(["-- stdout", *self.stdout, "-- stderr", *self.stderr])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def spawn(env: dict[str, str]) -> Iterator[Callable[..., Command]]:
    started: list[Command] = []

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Command:
        command = Command(list(args), {**env, "PYTHONUNBUFFERED": "1", **(extra_env or {})})
        started.append(command)
        return command

    yield run
    for command in started:
        command.close()


def run_statuses(home: Path) -> list[dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [r.status for r in instance.get_runs()]


def assert_stopped(code: int, took: float, after: list[str], signum: int) -> None:
    name = signal.Signals(signum).name
    print(f"figure: {name}: exit {code} after {took:.1f} s")  # for docs/troubleshooting.md
    assert code == 128 + signum, after
    assert took < EXIT_BOUND, f"took {took:.1f} s"
    assert after[0].startswith(f"stopping: {name} received; ending the sync within 3 s"), after
    stopped = [line for line in after if line.startswith("stopped: ")]
    assert stopped and f"stopped: {name} received after 0 of 1 run(s)" in stopped[0], after
    assert "stored rows unchanged" in stopped[0]


# ---- Ctrl-C and SIGTERM in each phase ----------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_fetch_stops_the_sync_and_keeps_the_rows(
    signum: int,
    seeded: pd.DataFrame,
    spawn: Callable[..., Command],
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
    isolated_paths: Path,
) -> None:
    fake_yahoo.config.latency_seconds = 4.0
    fake_yahoo.reset_counters()
    sync = spawn("sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
    sync.wait_for(lambda: sum(fake_yahoo.arrived.values()) > 0, STARTUP_BOUND, "a Yahoo request")
    code, took, after = sync.signal_and_time(signum)
    assert_stopped(code, took, after, signum)
    assert stored_rows(duckdb_file).equals(seeded)
    statuses = run_statuses(isolated_paths / "dagster_home")
    assert statuses[0] == dg.DagsterRunStatus.FAILURE  # the newest: the interrupted run


@pytest.mark.integration
@pytest.mark.parametrize(("status", "signum"), [(500, signal.SIGTERM), (429, signal.SIGINT)])
def test_a_signal_during_a_back_off_wait_stops_at_once(
    status: int,
    signum: int,
    seeded: pd.DataFrame,
    spawn: Callable[..., Command],
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
) -> None:
    fake_yahoo.add_recording("AAPL", "Yahoo is down or refusing", status=status)
    sync = spawn("sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
    sync.wait_for(sync.stderr_has("retrying in"), STARTUP_BOUND, "a back-off wait")
    code, took, after = sync.signal_and_time(signum)
    assert_stopped(code, took, after, signum)
    assert stored_rows(duckdb_file).equals(seeded)


@pytest.mark.integration
def test_a_signal_during_dagsters_step_retry_wait_ends_the_run_itself(
    seeded: pd.DataFrame,
    spawn: Callable[..., Command],
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
    isolated_paths: Path,
) -> None:
    """Dagster sleeps ~20 s before a step retry and cannot be woken: the CLI ends the run.

    The retry policy's jitter (± the delay) can make that sleep shorter than the test takes
    to send its signal; then the retry attempt is already running and stops itself, which
    is checked too, and the test starts another sync (at most three) until the signal lands
    in the wait."""
    fake_yahoo.add_recording("AAPL", "Yahoo is down", status=500)
    in_the_wait = False
    for _ in range(3):
        sync = spawn("sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
        sync.wait_for(
            sync.stderr_has("Dagster retries the step in about"), STARTUP_BOUND, "a step retry"
        )
        notice = next(line for line in sync.stderr if "Dagster retries the step" in line)
        assert notice.startswith("warning: intraday_prices: attempt 1 of 4 failed (")
        assert "it gives up after attempt 4" in notice
        code, took, after = sync.signal_and_time(signal.SIGTERM)
        print(f"figure: SIGTERM in Dagster's retry wait: exit {code} after {took:.1f} s")
        assert code == 143 and took < EXIT_BOUND, (took, after)
        assert stored_rows(duckdb_file).equals(seeded)
        assert run_statuses(isolated_paths / "dagster_home")[0] == dg.DagsterRunStatus.FAILURE
        if any("this process ended it" in line for line in after):
            in_the_wait = True
            break
        # The jittered wait was over: the retry attempt saw the stop and ended the run.
        assert any("stopped before storing anything" in line for line in after), after
    assert in_the_wait, "no signal of three landed in Dagster's retry wait"


# ---- runs left in limbo ------------------------------------------------------------------


@pytest.mark.integration
def test_kill_9_mid_sync_then_the_next_command_marks_the_run_failed(
    seeded: pd.DataFrame,
    cli: Cli,
    spawn: Callable[..., Command],
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
) -> None:
    fake_yahoo.config.latency_seconds = 4.0
    fake_yahoo.reset_counters()
    sync = spawn("sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
    sync.wait_for(lambda: sum(fake_yahoo.arrived.values()) > 0, STARTUP_BOUND, "a Yahoo request")
    sync.proc.kill()
    sync.proc.wait()
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs()[0].status == dg.DagsterRunStatus.STARTED  # in limbo
    listing = cli("runs")
    assert listing.exit_code == 0
    note = next(line for line in listing.output.splitlines() if line.startswith("note: "))
    assert f"was left STARTED by pid {sync.proc.pid} on " in note
    assert note.endswith("which is gone; marked FAILURE")
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs()[0]
        assert run.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "is gone (killed or crashed)" in (failure[-1].message or "")
    assert "note: " not in cli("runs").output  # reconciled once
    assert stored_rows(duckdb_file).equals(seeded)


# ---- permanent errors fail in seconds ----------------------------------------------------


def timed(cli: Cli, *args: str) -> tuple[Result, float]:
    started = time.monotonic()
    result = cli(*args)
    return result, time.monotonic() - started


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:9", "not-a-url"])
def test_a_yahoo_url_that_cannot_work_fails_before_any_run(
    url: str, seeded: pd.DataFrame, cli: Cli, monkeypatch: pytest.MonkeyPatch, duckdb_file: Path
) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", url)
    result, took = timed(cli, "sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
    print(f"figure: Yahoo URL {url}: exit {result.exit_code} after {took:.1f} s")
    assert result.exit_code == 2 and took < PERMANENT_BOUND
    assert result.output.splitlines()[0] == (
        f"error: the Yahoo URL {url!r} (STOCK_PIPELINE_YAHOO_URL or the yahoo resource's "
        f"base_url) is not an http(s)://HOST[:PORT] URL; fix it, or unset it to use Yahoo"
    )
    assert stored_rows(duckdb_file).equals(seeded)


@pytest.mark.parametrize("force", [True, False])
def test_a_catalog_that_is_not_a_database_fails_in_seconds(
    force: bool,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_yahoo: FakeYahoo,
) -> None:
    assert cli("symbols", "add", "--no-verify", "AAPL").exit_code == 0
    bogus = tmp_path / "bogus_lake"
    bogus.mkdir()
    catalog = bogus / "catalog.sqlite"
    catalog.write_text("not a database\n")
    monkeypatch.setenv("STOCK_PIPELINE_WAREHOUSE", str(bogus))
    fake_yahoo.reset_counters()
    args = ["sync-intraday", "--symbols", "AAPL", "--date", DAY] + (["--force"] if force else [])
    result, took = timed(cli, *args)
    print(
        f"figure: catalog not a database (force={force}): exit {result.exit_code} after "
        f"{took:.1f} s"
    )
    assert took < PERMANENT_BOUND, f"took {took:.1f} s"
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[0].startswith(
        f"error: the warehouse {Lake.at(bogus)} is damaged or not a DuckLake ("
    ), result.output
    assert "file is not a database" in result.output
    assert sum(fake_yahoo.requests.values()) == 0, fake_yahoo.requests
    assert catalog.read_text() == "not a database\n"
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []


def test_a_truncated_warehouse_fails_in_seconds(
    seeded: pd.DataFrame, cli: Cli, duckdb_file: Path
) -> None:
    cut = max(
        (duckdb_file / "files").rglob("intraday_prices/*.parquet"), key=lambda f: f.stat().st_size
    )
    size = cut.stat().st_size
    os.truncate(cut, size // 2)
    result, took = timed(cli, "sync-intraday", "--symbols", "AAPL", "--date", DAY, "--force")
    print(f"figure: truncated data file: exit {result.exit_code} after {took:.1f} s")
    assert took < PERMANENT_BOUND, f"took {took:.1f} s"
    # The lake attaches (its catalog is whole); the run fails where the write reads the
    # cut file (replacing the day's rows), once: no step retry.
    assert result.exit_code == 1, result.output
    assert (
        f"InvalidInputException: Invalid Input Error: No magic bytes found at end of file "
        f"'{cut}'" in result.output
    )
    assert "Exceeded max_retries" not in result.output
    assert result.output.splitlines()[-1].startswith("done: 0 partition(s) stored, 1 failed")
    assert cut.stat().st_size == size // 2


# ---- a reader holding the lake open ------------------------------------------------------


@pytest.fixture
def lake_reader(duckdb_file: Path, seeded: pd.DataFrame) -> Iterator[subprocess.Popen[str]]:
    """Another process (a notebook) holding a read transaction open on the lake."""
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from stock_pipeline.warehouse.reader import connect\n"
            f"con = connect({str(duckdb_file)!r})\n"
            "con.execute('BEGIN TRANSACTION')\n"
            "n = con.execute('SELECT count(*) FROM intraday_prices').fetchone()[0]\n"
            "print('ready', n, flush=True)\n"
            "sys.stdin.readline()\n"
            "n = con.execute('SELECT count(*) FROM intraday_prices').fetchone()[0]\n"
            "print('still', n, flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().split() == ["ready", str(len(seeded))]
    yield reader
    reader.kill()
    reader.wait()


def test_a_reader_holding_a_transaction_does_not_delay_a_sync(
    lake_reader: subprocess.Popen[str],
    seeded: pd.DataFrame,
    cli: Cli,
    fake_yahoo: FakeYahoo,
    duckdb_file: Path,
) -> None:
    """The single-file warehouse made a sync wait for any other holder; a lake does not."""
    yfinance.data.YfData.cache_get.cache_clear()  # the seeding sync's answer, in process
    fake_yahoo.reset_counters()
    other_day = "2026-11-23"
    args = ["sync-intraday", "--symbols", "AAPL", "--date", other_day]
    result, took = timed(cli, *args)
    print(f"figure: reader holding a transaction: sync exit {result.exit_code} after {took:.1f} s")
    assert result.exit_code == 0, result.output
    assert took < PERMANENT_BOUND, f"took {took:.1f} s"
    assert "waiting for the warehouse" not in result.output
    assert result.output.splitlines()[-1].startswith("done: 1 partition(s) stored, 0 failed")
    after = stored_rows(duckdb_file)
    assert len(after) == len(seeded) + 78
    assert (
        after[after.ts.dt.date.astype(str) == DAY]
        .reset_index(drop=True)
        .equals(seeded.reset_index(drop=True))
    )
    # The reader's transaction still sees the snapshot it began with.
    assert lake_reader.stdin is not None and lake_reader.stdout is not None
    lake_reader.stdin.write("\n")
    lake_reader.stdin.flush()
    assert lake_reader.stdout.readline().split() == ["still", str(len(seeded))]


# ---- a 429 storm -------------------------------------------------------------------------


def test_a_429_storm_backs_off_as_one_and_never_asks_cookie_or_crumb_again(
    fake_yahoo: FakeYahoo, tmp_path: Path
) -> None:
    """Two partitions while Yahoo answers every chart request 429 (was: 41 requests)."""
    for symbol in ("AAPL", "MSFT"):
        fake_yahoo.add_recording(symbol, "Too Many Requests", status=429)
    retries = 3
    client = YahooClient(
        YahooSettings(
            base_url=fake_yahoo.url,
            requests_per_second=None,
            max_retries=retries,
            backoff_seconds=0.05,
            cache_dir=str(tmp_path / "yf"),
        )
    )
    day = date.fromisoformat(DAY)
    started = time.monotonic()
    result = fetch_intraday(client, [SymbolDay("AAPL", day), SymbolDay("MSFT", day)], "5m")
    took = time.monotonic() - started
    print(f"figure: 429 storm: {dict(fake_yahoo.requests)} in {took:.1f} s")
    assert sorted(result.failed) == [f"{DAY}|AAPL", f"{DAY}|MSFT"]
    assert all(reason.startswith("RateLimitedError: ") for reason in result.failed.values())
    # One host-wide count of 429s in a row: the batch gives up after max_retries + 1 of
    # them, plus at most the requests already in flight (one per other window).
    chart = fake_yahoo.requests["chart"]
    assert chart <= retries + 1 + 1, fake_yahoo.log
    assert fake_yahoo.requests["cookie"] <= 1 and fake_yahoo.requests["crumb"] <= 1
    first_429 = next(i for i, r in enumerate(fake_yahoo.log) if r.status == 429)
    after = [r.kind for r in fake_yahoo.log[first_429:]]
    assert not {"cookie", "crumb", "consent"} & set(after), after
    assert took < 10, f"took {took:.1f} s"
