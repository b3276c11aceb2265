"""Fault injection: bad input, bad settings and a broken machine each give one clear line.

Every case asserts the exit code, the first line a person reads, and that the rows stored
before the fault are still there, unchanged. Commands run through click's runner with
``catch_exceptions=False``, so a traceback fails the test instead of passing as exit 1.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from stock_pipeline.background import (
    submit_current_prices,
    submit_historical_sync,
    submit_intraday_sync,
    submit_symbol_sync,
)
from stock_pipeline.cli import main
from stock_pipeline.defs.resources import WarehouseResource
from stock_pipeline.fake_yahoo import FakeYahoo
from stock_pipeline.services.instance import get_instance
from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect
from stock_pipeline_tests.support.frames import bars
from stock_pipeline_tests.support.pipeline import Pipeline

Cli = Callable[..., Result]
SYMBOLS = ["AAPL", "MSFT", "NVDA"]
DAYS = [date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24)]
IS_ROOT = os.geteuid() == 0


@pytest.fixture
def cli(
    fake_yahoo: FakeYahoo, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    monkeypatch.setenv("STOCK_PIPELINE_YAHOO_URL", fake_yahoo.url)
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run


@pytest.fixture
def stored(cli: Cli, duckdb_file: Path) -> pd.DataFrame:
    """Three registered symbols with 17 sessions of 5m bars each: a multi-block file."""
    assert cli("symbols", "add", "--no-verify", *SYMBOLS).exit_code == 0
    frame = pd.concat([bars(s, d, price=100 + i) for s in SYMBOLS for i, d in enumerate(DAYS)])
    fetched = pd.Timestamp("2026-11-25T21:30:00Z")
    WarehouseResource(path=str(duckdb_file)).write(
        INTRADAY_PRICES, frame.assign(fetched_at=fetched)
    )
    return rows_of(duckdb_file)


def rows_of(database: Path) -> pd.DataFrame:
    with connect(database, read_only=True) as con:
        return con.execute("SELECT * FROM intraday_prices ORDER BY symbol, ts").df()


def first_error(result: Result) -> str:
    """The first line the command wrote to stderr (click's runner keeps it apart)."""
    return result.stderr.strip().splitlines()[0] if result.stderr.strip() else ""


# ---- settings: refused by every command, before anything runs ---------------------------


def every_command() -> list[str]:
    return sorted(main.commands)


@pytest.mark.parametrize("command", every_command())
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "STOCK_PIPELINE_NOW",
            "garbage",
            "error: STOCK_PIPELINE_NOW='garbage' is not an ISO 8601 instant",
        ),
        ("STOCK_PIPELINE_WAREHOUSE", "<file>", "error: the warehouse path "),
    ],
)
def test_a_setting_that_cannot_work_is_refused_by_every_command(
    cli: Cli,
    stored: pd.DataFrame,
    duckdb_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    variable: str,
    value: str,
    expected: str,
) -> None:
    old_file = tmp_path / "warehouse.duckdb"  # the single-file warehouse of earlier versions
    old_file.write_bytes(b"DUCK" * 1024)
    if value == "<file>":
        value = str(old_file)
        expected += f"{old_file} is a file, not a directory"
    with monkeypatch.context() as patched:
        patched.setenv(variable, value)
        result = cli(command)
    assert result.exit_code == 2, result.output
    assert first_error(result).startswith(expected), result.output
    if variable == "STOCK_PIPELINE_WAREHOUSE":
        assert "must be a directory (an embedded lake" in first_error(result)
        assert "or postgres:<conninfo>" in first_error(result)
        assert f"`stock-pipeline warehouse migrate --from {old_file}`" in first_error(result)
    assert old_file.read_bytes() == b"DUCK" * 1024
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)


def test_help_still_works_with_a_bad_setting(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_NOW", "garbage")
    result = cli("status", "--help")
    assert result.exit_code == 0 and "Usage: " in result.output


# ---- a damaged warehouse ---------------------------------------------------------------


def data_file(lake_dir: Path, table: str = "intraday_prices") -> Path:
    """The largest Parquet file holding ``table``'s rows in an embedded lake."""
    files = list((lake_dir / "files").rglob(f"{table}/*.parquet"))
    assert files, f"no data file for {table} under {lake_dir}"
    return max(files, key=lambda f: f.stat().st_size)


def test_a_truncated_warehouse_fails_health_and_status_says_so(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path
) -> None:
    assert "every page read" in cli("health").output
    lake = Lake.at(duckdb_file)
    cut = data_file(duckdb_file)
    size = cut.stat().st_size
    os.truncate(cut, size // 2)
    health = cli("health")
    assert health.exit_code == 1
    line = next(x for x in health.output.splitlines() if x.startswith("FAIL  warehouse"))
    assert f"{lake} is damaged: table intraday_prices cannot be read: " in line, line
    assert str(cut) in line, line
    damaged = f"error: the warehouse {lake} is damaged or not a DuckLake ("
    status = cli("status")
    assert status.exit_code == 2, status.output
    assert first_error(status).startswith(damaged), status.output
    plan = cli("sync-intraday", "--date", "2026-11-24", "--dry-run")
    assert plan.exit_code == 2, plan.output
    assert first_error(plan).startswith(damaged), plan.output
    assert cut.stat().st_size == size // 2


@pytest.mark.parametrize("damage", ["garbled", "deleted"])
def test_health_reads_data_pages_not_only_the_catalogue(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path, damage: str
) -> None:
    """A damaged or missing data file: count(*) (catalog statistics) passes, the scan does not."""
    target = data_file(duckdb_file)
    if damage == "garbled":  # the file keeps its length, footer and magic bytes
        body = bytearray(target.read_bytes())
        middle = len(body) // 2
        body[middle : middle + 16] = b"\xde\xad\xbe\xef" * 4
        target.write_bytes(bytes(body))
    else:
        target.unlink()
    if damage == "garbled":
        with connect(duckdb_file, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM intraday_prices").fetchone() == (len(stored),)
    health = cli("health")
    assert health.exit_code == 1
    line = next(x for x in health.output.splitlines() if x.startswith("FAIL  warehouse"))
    assert "is damaged: table intraday_prices cannot be read: " in line, line


def test_a_catalog_that_is_not_a_database_is_explained(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path
) -> None:
    catalog = duckdb_file / "catalog.sqlite"
    garbage = b"not a database\n" * 1000
    catalog.write_bytes(garbage)
    for wal in duckdb_file.glob("catalog.sqlite-*"):
        wal.unlink()
    lake = Lake.at(duckdb_file)
    for command in (["status"], ["sync-intraday", "--date", "2026-11-24", "--dry-run"]):
        result = cli(*command)
        assert result.exit_code == 2, result.output
        assert first_error(result).startswith(
            f"error: the warehouse {lake} is damaged or not a DuckLake ("
        ), result.output
        assert "file is not a database" in first_error(result)
    health = cli("health")
    assert health.exit_code == 1
    line = next(x for x in health.output.splitlines() if x.startswith("FAIL  warehouse"))
    assert f"{lake} is unreadable: " in line and "file is not a database" in line, line
    assert catalog.read_bytes() == garbage


# ---- chart output ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("/dev/full", "error: cannot write the chart to /dev/full: No space left on device"),
        ("", "error: --out is empty: give the PNG file to write"),
    ],
)
def test_chart_output_that_cannot_be_written(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path, out: str, expected: str
) -> None:
    result = cli("chart", "AAPL", "--out", out)
    assert result.exit_code == 2
    assert first_error(result).startswith(expected)
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)


# ---- flags and dates accepted silently before ------------------------------------------


@pytest.mark.parametrize("delay", ["nan", "inf", "-inf", "0", "-1"])
def test_a_delay_that_is_not_a_positive_finite_number_is_refused(
    cli: Cli, stored: pd.DataFrame, delay: str
) -> None:
    result = cli("sync-intraday", "--date", "2026-11-24", "--delay", delay, "--force")
    assert result.exit_code == 2
    assert "Invalid value for '--delay'" in result.output
    assert "not a positive, finite number of seconds" in result.output
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []


def test_batch_size_zero_is_refused_by_the_cli_as_by_the_api(
    cli: Cli, stored: pd.DataFrame
) -> None:
    result = cli("sync-intraday", "--date", "2026-11-24", "--batch-size", "0")
    assert result.exit_code == 2 and "Invalid value for '--batch-size'" in result.output
    with pytest.raises(ValueError, match="batch_size must be at least 1 symbol per run, not 0"):
        submit_intraday_sync(batch_size=0, instance=get_instance())


def test_history_before_the_first_history_year_says_so(cli: Cli, stored: pd.DataFrame) -> None:
    result = cli("sync-historical", "--start-date", "1900-01-01", "--end-date", "1901-01-01")
    assert result.exit_code == 2
    assert first_error(result) == (
        "error: 1900-01-01 … 1901-01-01 is before 1980, the first year of the daily history "
        "partitions; give dates from 1980-01-01 on"
    )


def test_an_inverted_partition_range_fails_the_run_naming_it(pipeline: Pipeline) -> None:
    pipeline.register(["AAPL"])
    result = pipeline.materialize("intraday_prices", "2026-11-24|AAPL", "2026-11-20|AAPL")
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None and failure.description is not None
    assert failure.description.startswith(
        "partition range 2026-11-24|AAPL...2026-11-20|AAPL selects no partition: its start "
        "comes after its end"
    )
    assert pipeline.fake.requests["chart"] == 0


# ---- the Python API: wrong types and ranges raise before anything runs ------------------


API_CASES: list[tuple[Callable[..., Any], dict[str, Any], type[Exception], str]] = [
    (submit_intraday_sync, {"symbols": 123}, TypeError, "symbols must be a list of ticker"),
    (submit_intraday_sync, {"symbols": [None]}, TypeError, "symbols[0] must be a ticker string"),
    (submit_intraday_sync, {"start": 20261127}, TypeError, "start must be a datetime.date or"),
    (submit_intraday_sync, {"end": 20261127}, TypeError, "end must be a datetime.date or"),
    (submit_intraday_sync, {"delay": "1"}, TypeError, "delay must be a number of seconds"),
    (submit_intraday_sync, {"delay": math.nan}, ValueError, "delay must be a positive, finite"),
    (submit_intraday_sync, {"delay": math.inf}, ValueError, "delay must be a positive, finite"),
    (submit_intraday_sync, {"batch_size": -3}, ValueError, "batch_size must be at least 1"),
    (submit_intraday_sync, {"batch_size": 2.5}, TypeError, "batch_size must be a whole number"),
    (submit_intraday_sync, {"force": "no"}, TypeError, "force must be True or False"),
    (submit_intraday_sync, {"interval": 5}, TypeError, "interval must be a string"),
    (submit_symbol_sync, {"symbol": ["AAPL"]}, TypeError, "symbol must be one ticker string"),
    (submit_historical_sync, {"symbols": 123}, TypeError, "symbols must be a list of ticker"),
    (submit_historical_sync, {"start": 1900}, TypeError, "start must be a datetime.date or"),
    (submit_historical_sync, {"delay": math.nan}, ValueError, "delay must be a positive"),
    (submit_historical_sync, {"batch_size": -3}, ValueError, "batch_size must be at least 1"),
    (submit_historical_sync, {"period": 2}, TypeError, "period must be a string"),
    (submit_current_prices, {"delay": math.inf}, ValueError, "delay must be a positive"),
    (submit_current_prices, {"delay": "1"}, TypeError, "delay must be a number of seconds"),
]


@pytest.mark.parametrize(
    ("submit", "kwargs", "error", "message"),
    API_CASES,
    ids=[f"{fn.__name__}-{next(iter(kw))}={next(iter(kw.values()))!r}" for fn, kw, *_ in API_CASES],
)
def test_wrong_arguments_to_the_api_raise_before_anything_is_queued(
    stored: pd.DataFrame,
    duckdb_file: Path,
    submit: Callable[..., Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    instance = get_instance()
    with pytest.raises(error) as raised:
        submit(**kwargs, instance=instance, eager=False)
    assert str(raised.value).startswith(message), str(raised.value)
    assert instance.get_runs() == []
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)


# ---- a full disk ------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs filled to the last byte (root only: mount needs CAP_SYS_ADMIN)."""
    if not IS_ROOT:
        pytest.skip("mounting a tmpfs needs root; run the suite as root to inject a full disk")
    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(mount: Path) -> None:
    """Write zeros until the device refuses even one byte."""
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError:
                    break
    finally:
        os.close(fd)


def test_a_full_disk_under_the_instance_is_one_line_and_keeps_the_rows(
    cli: Cli,
    stored: pd.DataFrame,
    duckdb_file: Path,
    full_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = full_disk / "dagster_home"
    shutil.copytree(Path(os.environ["DAGSTER_HOME"]), home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    fill(full_disk)
    result = cli("sync-intraday", "--date", "2026-11-24", "--force")
    assert result.exit_code == 2, result.output
    line = first_error(result)
    assert line.startswith(f"error: the Dagster instance at {home} could not be written: "), line
    assert "free space: rows already stored are kept" in line
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)


def test_a_sync_onto_a_full_disk_is_refused_before_any_run(
    cli: Cli,
    stored: pd.DataFrame,
    duckdb_file: Path,
    full_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = full_disk / "warehouse"
    # A lake's catalog records its data directory's absolute path, so a copied lake would
    # not attach: store the same rows in a lake made on the small disk instead.
    WarehouseResource(path=str(database)).write(INTRADAY_PRICES, stored)
    monkeypatch.setenv("STOCK_PIPELINE_WAREHOUSE", str(database))
    fill(full_disk)
    result = cli("sync-intraday", "--date", "2026-11-24", "--force")
    assert result.exit_code == 2, result.output
    lake = Lake.at(database)
    assert first_error(result).startswith(
        f"error: the disk holding the warehouse {lake} is full (0 KiB free; "
    ), result.output
    assert "nothing was changed" in first_error(result)
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []
    (full_disk / "filler").unlink()  # the embedded catalog writes its WAL index even to read
    pd.testing.assert_frame_equal(rows_of(database), stored)


def test_the_instance_deleted_under_a_command_is_one_line(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DAGSTER_HOME removed after the instance was opened (as by `rm -rf` mid-run)."""
    from stock_pipeline.services import sync as sync_service

    home = Path(os.environ["DAGSTER_HOME"])
    real_execute = sync_service.execute_plan

    def delete_then_execute(*args: Any, **kwargs: Any) -> Any:
        shutil.rmtree(home)
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(sync_service, "execute_plan", delete_then_execute)
    result = cli("sync-intraday", "--date", "2026-11-24", "--force")
    assert result.exit_code == 2, result.output
    assert first_error(result).startswith(
        f"error: the Dagster instance at {home} is missing or unwritable ("
    ), result.output
    assert "was DAGSTER_HOME deleted or moved?" in first_error(result)
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)


# ---- a read-only warehouse, as an unprivileged user ------------------------------------


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[str]:
    """A throwaway unprivileged account (useradd, so root only), removed afterwards."""
    if not IS_ROOT or shutil.which("useradd") is None:
        pytest.skip("creating an unprivileged user needs root and useradd")
    closed = [p for p in Path(sys.prefix).resolve().parents if not os.stat(p).st_mode & 0o001]
    if any(p != Path("/root") for p in closed):  # /root is bridged by run_as's capability
        # Some libraries (alembic) check paths with access(2), which ignores that capability.
        pytest.skip(f"the project's environment lies under {closed[0]}, closed to other users")
    name = f"spreader{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def lake_bytes(lake_dir: Path) -> dict[str, bytes]:
    """Every file of an embedded lake, by its path inside the lake."""
    return {
        str(f.relative_to(lake_dir)): f.read_bytes() for f in lake_dir.rglob("*") if f.is_file()
    }


def run_as(user: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``stock-pipeline ARGS`` as ``user`` with no capability but reading files.

    This machine's interpreter lives under /root (mode 0700), out of a plain account's
    reach; CAP_DAC_READ_SEARCH lets the account read it (and every file) but write only
    what it owns, which is what a read-only warehouse is about.
    """
    command = [
        "setpriv",
        f"--reuid={user}",
        f"--regid={user}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        str(Path(sys.executable).parent / "stock-pipeline"),
        *args,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_a_read_only_warehouse_is_read_but_not_synced_by_another_user(
    cli: Cli, stored: pd.DataFrame, duckdb_file: Path, tmp_path: Path, reader: str
) -> None:
    home = tmp_path / "reader_home"
    home.mkdir()
    shutil.copytree(Path(os.environ["DAGSTER_HOME"]), home, dirs_exist_ok=True)
    subprocess.run(["chown", "-R", f"{reader}:{reader}", str(home)], check=True)
    for path in (tmp_path, duckdb_file.parent):
        path.chmod(0o755)
    for path in (duckdb_file, *duckdb_file.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = {**os.environ, "DAGSTER_HOME": str(home), "STOCK_PIPELINE_DATA_DIR": str(home)}
    env["STOCK_PIPELINE_WAREHOUSE"] = str(duckdb_file)
    before = lake_bytes(duckdb_file)

    status = run_as(reader, ["status"], env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[1].startswith("AAPL: 5m 2026-11-24 15:55"), status.stdout

    sync = run_as(reader, ["sync-intraday", "--date", "2026-11-24", "--force"], env)
    assert sync.returncode == 2, sync.stderr
    assert sync.stderr.splitlines()[0].startswith(
        "error: cannot write the warehouse: not writable by this user (uid "
    ), sync.stderr
    assert str(duckdb_file / "catalog.sqlite") in sync.stderr
    assert lake_bytes(duckdb_file) == before
    pd.testing.assert_frame_equal(rows_of(duckdb_file), stored)
