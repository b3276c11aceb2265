"""The file lock across real processes: one exclusive holder, shared readers, a clear timeout."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

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
def test_waiting_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "manifest"
    child = holding(path, exclusive=True)
    try:
        with (
            pytest.raises(WarehouseLockTimeout, match="another stock_pipeline process"),
            warehouse_lock(path, exclusive=False, wait_seconds=0.2),
        ):
            pass
    finally:
        child.join(timeout=30)


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
