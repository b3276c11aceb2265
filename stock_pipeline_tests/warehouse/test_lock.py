"""The file lock across real processes: one exclusive holder, shared readers, a clear timeout."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from stock_pipeline import settings
from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import ConfigurationError
from stock_pipeline.warehouse.lock import WarehouseLockTimeout, lock_path, warehouse_lock
from stock_pipeline_tests.support.processes import hold_lock

HOLD = 2.0


def holding(path: Path, exclusive: bool) -> multiprocessing.process.BaseProcess:
    """Another process holding ``path``'s lock for HOLD seconds."""
    spawn = multiprocessing.get_context("spawn")
    opened = spawn.Event()
    child = spawn.Process(target=hold_lock, args=(str(path), exclusive, HOLD, opened))
    child.start()
    assert opened.wait(timeout=60), "the holding process never took the lock"
    return child


@pytest.mark.integration
def test_a_second_holder_waits_its_turn(tmp_path: Path) -> None:
    path = tmp_path / "manifest"
    child = holding(path, exclusive=True)
    try:
        started = time.monotonic()
        with warehouse_lock(path, exclusive=True, wait_seconds=30):
            waited = time.monotonic() - started
    finally:
        child.join(timeout=30)
    assert waited >= HOLD / 4
    assert child.exitcode == 0


@pytest.mark.integration
def test_readers_share_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "manifest"
    child = holding(path, exclusive=False)
    try:
        started = time.monotonic()
        with warehouse_lock(path, exclusive=False, wait_seconds=30):
            assert time.monotonic() - started < HOLD / 2
    finally:
        child.join(timeout=30)


@pytest.mark.integration
def test_waiting_gives_up_with_a_clear_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "manifest"
    child = holding(path, exclusive=True)
    try:
        with (
            pytest.raises(WarehouseLockTimeout, match="another stock_pipeline process") as error,
            warehouse_lock(path, exclusive=False, wait_seconds=0.2),
        ):
            pass
    finally:
        child.join(timeout=30)
    # Who holds it (from the kernel's lock table), that it waited, and the bound.
    assert f"pid {child.pid} (" in str(error.value)
    assert str(error.value).startswith(f"gave up after waiting 0 s for the warehouse {path}")
    assert "--lock-timeout" in str(error.value)
    (notice,) = [r.getMessage() for r in caplog.records if "waiting for" in r.getMessage()]
    assert f"pid {child.pid} (" in notice and "giving up in 0 s" in notice


@pytest.mark.integration
def test_a_stop_request_ends_the_wait_at_once(tmp_path: Path) -> None:
    path = tmp_path / "manifest"
    child = holding(path, exclusive=True)
    timer = threading.Timer(0.3, stopping.request_stop, args=("SIGTERM received",))
    try:
        started = time.monotonic()
        timer.start()
        with (
            pytest.raises(stopping.SyncStopped),
            warehouse_lock(path, exclusive=True, wait_seconds=60),
        ):
            pass
        assert time.monotonic() - started < 0.3 + 0.5
    finally:
        stopping.clear()
        child.join(timeout=30)


def test_the_wait_bound_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_PIPELINE_LOCK_TIMEOUT", "7.5")
    assert settings.lock_timeout() == 7.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("STOCK_PIPELINE_LOCK_TIMEOUT", bad)
        with pytest.raises(ConfigurationError, match="STOCK_PIPELINE_LOCK_TIMEOUT"):
            settings.lock_timeout()


def test_the_lock_is_reentrant_within_a_thread_but_never_upgraded(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    with (
        warehouse_lock(database, exclusive=True, wait_seconds=1),
        warehouse_lock(database, exclusive=False, wait_seconds=1),
    ):
        pass
    with (
        warehouse_lock(database, exclusive=False, wait_seconds=1),
        pytest.raises(RuntimeError, match="read-write connection was opened inside"),
        warehouse_lock(database, exclusive=True, wait_seconds=1),
    ):
        pass
    assert lock_path(database).name == "w.duckdb.lock"
