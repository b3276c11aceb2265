"""Faults of the machine, not of the code, said in one line instead of a traceback.

A full disk, a damaged or misplaced warehouse file, a Dagster instance deleted under a
running command: none is a bug, so a person should read what happened and what to do, not
a stack. ``explain`` finds the first such cause in an exception's chain (Dagster and
SQLAlchemy wrap the OS error) and says it; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator

from stock_pipeline.domain.errors import StockPipelineError, damaged_warehouse

KEPT = (
    "rows already stored are kept (each partition is written in one transaction); "
    "run the command again once it is fixed"
)
DISK_FULL = ("no space left on device", "database or disk is full", "disk i/o error")
DAMAGED = (
    "not a valid duckdb database file",
    "could not read enough bytes",
    "corrupt",
    "checksum",
    "serialization",
    "failed to read",
    # the lake: a cut or foreign Parquet file, a missing one, a catalog that is not SQLite
    "no magic bytes",
    "variable-length int",
    "cannot open file",
    "file is not a database",
)
INSTANCE_GONE = ("unable to open database file", "no such table", "readonly database")
DENIED = ("permission denied", "read-only file system")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _has(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n in lowered for n in needles)


def _warehouse_path() -> str:
    try:
        from stock_pipeline.warehouse.lake import Lake

        return str(Lake.from_settings())
    except StockPipelineError:
        return os.environ.get("STOCK_PIPELINE_WAREHOUSE", "the warehouse")


def _instance_home() -> str:
    return os.environ.get("DAGSTER_HOME", "DAGSTER_HOME")


def _duckdb(exc: BaseException) -> str:
    path, line = _warehouse_path(), _first_line(exc)
    if _has(line, DISK_FULL):
        return f"the disk holding the warehouse {path} is full ({line}); free space: {KEPT}"
    if _has(line, DENIED):
        return (
            f"the warehouse {path} cannot be written ({line}): run as the user who owns it, "
            f"or give that user write access; nothing was changed"
        )
    if _has(line, DAMAGED):
        return damaged_warehouse(path, line)
    return f"the warehouse {path} failed: {line}"


def _sqlalchemy(exc: BaseException) -> str:
    home, line = _instance_home(), _first_line(getattr(exc, "orig", None) or exc)
    if _has(line, DISK_FULL):
        return (
            f"the Dagster instance at {home} could not be written: {line} (a full or failing "
            f"disk); free space: {KEPT}"
        )
    if _has(line, INSTANCE_GONE):
        return (
            f"the Dagster instance at {home} is missing or unwritable ({line}): was "
            f"DAGSTER_HOME deleted or moved? Restore it, or point DAGSTER_HOME at the right "
            f"directory; {KEPT}"
        )
    return f"the Dagster instance at {home} failed: {line}"


def _os_error(exc: OSError) -> str:
    where = exc.filename if exc.filename not in (None, "") else "a file"
    what = exc.strerror or _first_line(exc)
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device writing {where}; free space: {KEPT}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {where}: {what}; nothing was changed"
    return f"{what}: {where}"


def explain(exc: BaseException) -> str | None:
    """A one-line message for an expected fault anywhere in ``exc``'s chain, else None.

    DuckDB, SQLAlchemy and sqlite3 are looked up only if already imported: an error of theirs
    cannot exist otherwise, and importing them here would make ``--help`` (which ends in
    click's ``Exit``, a RuntimeError) pay for libraries it never uses.
    """
    duckdb = sys.modules.get("duckdb")
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    sqlite3 = sys.modules.get("sqlite3")
    dbapi_errors: tuple[type[BaseException], ...] = tuple(
        error
        for error in (
            getattr(sqlalchemy_exc, "DBAPIError", None),
            getattr(sqlite3, "Error", None),
        )
        if error is not None
    )
    for cause in _chain(exc):
        if isinstance(cause, StockPipelineError):
            return str(cause)
        if duckdb is not None and isinstance(cause, duckdb.Error):
            return _duckdb(cause)
        if dbapi_errors and isinstance(cause, dbapi_errors):
            return _sqlalchemy(cause)
        if isinstance(cause, OSError) and cause.errno is not None:
            return _os_error(cause)
    return None
