"""Where the warehouse lives and how a DuckDB connection reaches it: a DuckLake.

The warehouse is a DuckLake: tables are Parquet files under a data path, their catalog is a
database. Embedded (the default, one machine, no server): a SQLite catalog file and a local
Parquet directory under ``data/warehouse/``. Many machines: a PostgreSQL catalog and a data
path that may be an S3-compatible bucket. Readers see a snapshot and never block a writer;
writers commit concurrently and a conflict is retried (``stock_pipeline.warehouse.commits``).

DuckDB's online extension install is not used: the extensions come from the
``duckdb-ext-*`` wheels and are loaded by path, so the lake attaches offline.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from stock_pipeline import settings
from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.warehouse.commits import retry_conflicts

ALIAS = "lake"
POSTGRES_PREFIX = "postgres:"
SQLITE_CATALOG = "catalog.sqlite"
DATA_DIR = "files"
EXTENSIONS = ("parquet", "sqlite_scanner", "postgres_scanner", "ducklake")
S3_EXTENSIONS = ("httpfs", "aws")


class LakeUnavailableError(StockPipelineError):
    """The lake cannot be attached: a missing extension, catalog or bad setting."""


@dataclass(frozen=True)
class Lake:
    """One DuckLake: its catalog (``sqlite:<file>`` or ``postgres:<conninfo>``) and data path."""

    catalog: str
    data_path: str

    @classmethod
    def at(cls, where: Lake | str | Path, data_path: str | None = None) -> Lake:
        """A lake from a setting: ``postgres:<libpq conninfo>`` or an embedded lake directory.

        An embedded lake directory holds ``catalog.sqlite`` and the Parquet files under
        ``files/``; ``data_path`` (a directory or ``s3://bucket/prefix/``) overrides where
        the files go. A PostgreSQL catalog needs ``data_path``: every machine must reach it.
        """
        if isinstance(where, Lake):
            return where
        text = str(where).strip()
        if text.startswith(POSTGRES_PREFIX):
            if not data_path:
                raise LakeUnavailableError(
                    f"a PostgreSQL-catalogued warehouse ({_safe(text)}) needs a data path every "
                    f"machine can reach: set {settings.WAREHOUSE_DATA_ENV} to a shared "
                    f"directory or s3://bucket/prefix/"
                )
            return cls(text, _directory(data_path))
        if text.startswith("DuckLake "):  # str(Lake) is for people, not a setting
            raise LakeUnavailableError(
                f"{text!r} is a lake's description, not its location: pass the Lake itself"
            )
        if not text:
            raise LakeUnavailableError(
                f"empty warehouse location: set {settings.WAREHOUSE_ENV} to a directory "
                f"(embedded lake) or postgres:<conninfo>"
            )
        root = Path(text).expanduser().resolve()
        return cls(f"sqlite:{root / SQLITE_CATALOG}", _directory(data_path or str(root / DATA_DIR)))

    @classmethod
    def from_settings(cls) -> Lake:
        """The lake $STOCK_PIPELINE_WAREHOUSE (and $STOCK_PIPELINE_WAREHOUSE_DATA) names."""
        return cls.at(settings.warehouse_location(), settings.warehouse_data_path())

    @property
    def embedded(self) -> bool:
        return self.catalog.startswith("sqlite:")

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.catalog.removeprefix("sqlite:")) if self.embedded else None

    @property
    def on_object_storage(self) -> bool:
        return "://" in self.data_path and not self.data_path.startswith("file://")

    @property
    def local_data_dir(self) -> Path | None:
        """The data directory on this machine's disk (None: an object-storage bucket)."""
        if self.on_object_storage:
            return None
        return Path(self.data_path.removeprefix("file://"))

    def exists(self) -> bool:
        """Whether the catalog may hold data: an embedded lake's file exists; a server might."""
        return self.sqlite_file.exists() if self.sqlite_file else True

    def __str__(self) -> str:
        return f"DuckLake {_safe(self.catalog)} (data {self.data_path})"


def _directory(path: str) -> str:
    """A data path with one trailing slash (DuckLake joins file names onto it)."""
    if "://" not in path:
        path = str(Path(path).expanduser().resolve())
    return path.rstrip("/") + "/"


def _safe(catalog: str) -> str:
    """The catalog string without a password (shown in logs and run metadata)."""
    parts = [p for p in catalog.split() if not p.lower().startswith("password=")]
    return " ".join(parts)


def extension_path(con: duckdb.DuckDBPyConnection, name: str) -> Path:
    """The binary a ``duckdb-ext-<name>`` wheel installed for this DuckDB and platform."""
    import duckdb_ext  # the namespace package the extension wheels install into

    row = con.execute("PRAGMA platform").fetchone()
    platform = str(row[0]) if row else "linux_amd64"
    version = duckdb.__version__
    for base in duckdb_ext.__path__:
        candidate = (
            Path(base) / "extensions" / f"v{version}" / platform / f"{name}.duckdb_extension"
        )
        if candidate.exists():
            return candidate
    raise LakeUnavailableError(
        f"DuckDB extension {name} for DuckDB {version} on {platform} is not installed: the "
        f"project pins duckdb and the duckdb-ext-* wheels together; run `uv sync --frozen`"
    )


def _load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    for name in names:
        con.execute(f"LOAD '{extension_path(con, name)}'")


def _prepare_sqlite(file: Path) -> None:
    """Create the SQLite catalog in WAL mode, so a reader never blocks a writer's commit.

    In SQLite's default journal mode a reader holding a DuckLake transaction open keeps a
    shared lock that makes every writer's commit fail with "database is locked"; WAL mode
    is a property of the file, set once before DuckLake first writes to it.
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(file, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


def _can_open_wal(file: Path) -> bool:
    """Whether this user may open the WAL-mode catalog at all: SQLite creates or writes its
    ``-wal`` and ``-shm`` files beside it even to read, so the folder must be writable."""
    return os.access(file.parent, os.W_OK | os.X_OK) and (
        not file.exists() or os.access(file, os.W_OK)
    )


_copies: list[tempfile.TemporaryDirectory[str]] = []  # removed when the process exits


def _private_copy(file: Path) -> Path:
    """A copy of the catalog (with its WAL) this user may open: a reader without write
    access to the lake (another account's ``status``, ``chart``, notebook) reads the
    snapshot current when it attached. The Parquet files are read where they are."""
    folder = tempfile.TemporaryDirectory(prefix="stock-pipeline-catalog-")
    _copies.append(folder)
    copy = Path(folder.name) / file.name
    wal = file.with_name(file.name + "-wal")
    for _ in range(5):  # a commit landing mid-copy changes the WAL: copy again
        before = wal.stat().st_mtime_ns if wal.exists() else None
        shutil.copyfile(file, copy)
        if before is not None:
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        after = wal.stat().st_mtime_ns if wal.exists() else None
        if before == after:
            break
    return copy


def _s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """Credentials for an S3 data path from the standard AWS variables.

    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN, AWS_REGION) when set,
    else the AWS credential chain; AWS_ENDPOINT_URL points at an S3-compatible server
    (MinIO, Ceph, moto) and switches to path-style URLs.
    """
    options: dict[str, str] = {"TYPE": "s3"}
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    if key:
        options["KEY_ID"] = key
        options["SECRET"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if os.environ.get("AWS_SESSION_TOKEN"):
            options["SESSION_TOKEN"] = os.environ["AWS_SESSION_TOKEN"]
    else:
        options["PROVIDER"] = "credential_chain"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["REGION"] = region
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options["ENDPOINT"] = url.netloc
        options["USE_SSL"] = "true" if url.scheme == "https" else "false"
        options["URL_STYLE"] = "path"
    body = ", ".join(
        f"{k} {v}" if k in ("TYPE", "PROVIDER", "USE_SSL") else f"{k} '{_quote(v)}'"
        for k, v in options.items()
    )
    con.execute(f"CREATE OR REPLACE SECRET stock_pipeline_s3 ({body})")


def _quote(value: str) -> str:
    return value.replace("'", "''")


def open_connection(
    lake: Lake,
    *,
    read_only: bool = False,
    as_of: datetime | None = None,
    wait_seconds: float = 120.0,
) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection in UTC with ``lake`` attached and in use.

    ``read_only`` attaches the lake read-only (a notebook cannot change it); ``as_of``
    attaches it read-only at the snapshot current at that instant. Attaching a new lake
    creates its catalog; a catalog busy with another process's commit is retried.
    """
    con = duckdb.connect(
        config={
            "allow_unsigned_extensions": "true",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
    )
    try:
        _load_extensions(con, EXTENSIONS)
        if lake.on_object_storage:
            _load_extensions(con, S3_EXTENSIONS)
            _s3_secret(con)
        if lake.sqlite_file is not None and not lake.sqlite_file.exists():
            if read_only or as_of is not None:
                raise LakeUnavailableError(
                    f"no warehouse at {lake.sqlite_file.parent} yet: run a sync first "
                    f"(or point {settings.WAREHOUSE_ENV} at an existing one)"
                )
            _prepare_sqlite(lake.sqlite_file)
        reading = read_only or as_of is not None
        if not lake.on_object_storage and not reading:
            Path(lake.data_path).mkdir(parents=True, exist_ok=True)
        options = [f"DATA_PATH '{_quote(lake.data_path)}'"]
        if reading:
            options.append("READ_ONLY")
        if as_of is not None:
            options.append(f"SNAPSHOT_TIME '{as_of.isoformat()}'")
        catalog = lake.catalog
        if reading and lake.sqlite_file is not None and not _can_open_wal(lake.sqlite_file):
            catalog = f"sqlite:{_private_copy(lake.sqlite_file)}"
        attach = f"ATTACH 'ducklake:{_quote(catalog)}' AS {ALIAS} ({', '.join(options)})"
        retry_conflicts(lambda: con.execute(attach), f"attach {lake}", wait_seconds)
    except BaseException:
        con.close()
        raise
    return _in_use(con)


# One DuckDB instance per process, lake and mode, with the lake attached: loading the
# extensions and attaching costs ~0.5 s, a cursor on an attached instance ~0.05 s.
_shared: dict[tuple[int, Lake, bool], duckdb.DuckDBPyConnection] = {}
_shared_lock = threading.Lock()


def shared_connection(
    lake: Lake,
    *,
    read_only: bool = False,
    prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    wait_seconds: float = 120.0,
    attach_lock: Callable[[], AbstractContextManager[object]] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A new connection (its own transactions) to this process's instance attached to ``lake``.

    ``prepare`` runs once, when the instance is first attached (creating tables); if it
    raises, the instance is discarded. Attaching and preparing happen inside
    ``attach_lock()`` (a writer's: attaching may create the catalog). Keyed by process id,
    so a forked child attaches anew.
    """
    key = (os.getpid(), lake, read_only)
    with _shared_lock:
        base = _shared.get(key)
        if base is None:
            with attach_lock() if attach_lock is not None else nullcontext():
                base = open_connection(lake, read_only=read_only, wait_seconds=wait_seconds)
                try:
                    if prepare is not None:
                        prepare(base)
                except BaseException:
                    base.close()
                    raise
            _shared[key] = base
    return _in_use(base.cursor())


def _in_use(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with the lake as its default database and UTC as its time zone."""
    try:
        con.execute(f"USE {ALIAS}")
        con.execute("SET TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


def forget_shared(lake: Lake) -> None:
    """Close this process's instances attached to ``lake`` (a test removing its lake)."""
    with _shared_lock:
        for key in [k for k in _shared if k[1] == lake]:
            _shared.pop(key).close()


@contextmanager
def attached(
    lake: Lake,
    *,
    read_only: bool = False,
    as_of: datetime | None = None,
    wait_seconds: float = 120.0,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``open_connection`` closed on exit."""
    con = open_connection(lake, read_only=read_only, as_of=as_of, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()
