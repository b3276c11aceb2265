"""Moving a single-file DuckDB warehouse (earlier versions) into the lake, verified.

Each table's slices present in the old file replace the same slices in the lake, in one
claimed transaction per table; then rows per table and symbol are compared. The old file
is only read. A file written by DuckDB 2.x cannot be opened by the DuckDB 1.4 the lake
needs: it is refused with the two commands that export it and migrate the export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from stock_pipeline.domain.errors import StockPipelineError
from stock_pipeline.warehouse.lake import Lake, open_connection
from stock_pipeline.warehouse.legacy import note_legacy_rows
from stock_pipeline.warehouse.tables import TABLES, Table, create_tables
from stock_pipeline.warehouse.writers import write_transaction

OLD = "old_warehouse"


class MigrationError(StockPipelineError):
    """The old warehouse cannot be read, or the lake does not match it after copying."""


@dataclass(frozen=True)
class MigratedTable:
    table: str
    rows: int
    symbols: int


def _export_relations(folder: Path) -> dict[str, str]:
    """Table -> read_parquet(...) of an ``EXPORT DATABASE`` folder (from its load.sql)."""
    load = folder / "load.sql"
    if not load.exists():
        raise MigrationError(
            f"{folder} is a directory without load.sql: give a warehouse.duckdb file or a "
            f"folder written by EXPORT DATABASE '...' (FORMAT parquet)"
        )
    found = re.findall(r"COPY\s+\"?([\w.]+?)\"?\s+FROM\s+'([^']+)'", load.read_text())
    relations = {}
    for name, path in found:
        file = Path(path) if Path(path).is_absolute() else folder / Path(path).name
        relations[name.split(".")[-1]] = f"read_parquet('{file}')"
    return relations


def _file_relations(con: duckdb.DuckDBPyConnection, source: Path) -> dict[str, str]:
    try:
        con.execute(f"ATTACH '{source}' AS {OLD} (READ_ONLY)")
    except duckdb.IOException as exc:
        if "version number" not in str(exc):
            raise MigrationError(f"cannot read {source}: {exc}") from exc
        export = source.with_name(source.stem + "-export")
        raise MigrationError(
            f"{source} was written by a newer DuckDB (2.x) than the {duckdb.__version__} the "
            f"lake runs on, which cannot read it ({exc}). Export it with the DuckDB that wrote "
            f"it, then migrate the export (the file itself is left as it is):\n"
            f'  uv run --no-project --with duckdb==2.0.1 python -c "import duckdb; '
            f"duckdb.connect('{source}', read_only=True).execute("
            f'\\"EXPORT DATABASE \'{export}\' (FORMAT parquet)\\")"\n'
            f"  stock-pipeline warehouse migrate --from {export}"
        ) from exc
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [OLD]
    ).fetchall()
    return {name: f'{OLD}.main."{name}"' for (name,) in names}


def migrate(source: Path, lake: Lake) -> list[MigratedTable]:
    """Copy ``source`` (a DuckDB file or an export folder) into ``lake``; verify; return counts."""
    if not source.exists():
        raise MigrationError(f"{source} does not exist: nothing to migrate")
    con = open_connection(lake)
    try:
        create_tables(con)
        relations = _export_relations(source) if source.is_dir() else _file_relations(con, source)
        note_legacy_rows(con, relations)
        copied = [
            _copy(con, TABLES[name], relation)
            for name, relation in relations.items()
            if name in TABLES
        ]
    finally:
        con.close()
    if not copied:
        raise MigrationError(f"{source} holds none of the tables {sorted(TABLES)}")
    return copied


def _copy(con: duckdb.DuckDBPyConnection, table: Table, relation: str) -> MigratedTable:
    old_columns = {d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description or []}
    cols = ", ".join(f'"{c}"' for c in table.column_names if c in old_columns)
    slices = ", ".join(f'"{c}"' for c in table.slice_by)

    def replace() -> None:
        con.execute(
            f'DELETE FROM "{table.name}" WHERE ({slices}) IN '
            f"(SELECT DISTINCT {slices} FROM {relation})"
        )
        con.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {relation}')

    write_transaction(con, [table.name], replace, f"migrate {table.name}")
    on = " AND ".join(f't."{c}" = o."{c}"' for c in table.slice_by)
    before = dict(
        con.execute(f"SELECT symbol, count(*) FROM {relation} GROUP BY symbol").fetchall()
    )
    after = dict(
        con.execute(
            f'SELECT symbol, count(*) FROM "{table.name}" t SEMI JOIN '
            f"(SELECT DISTINCT {slices} FROM {relation}) o ON {on} GROUP BY symbol"
        ).fetchall()
    )
    if before != after:
        wrong = sorted(s for s in before.keys() | after.keys() if before.get(s) != after.get(s))
        raise MigrationError(
            f"{table.name}: row counts differ after copying for {len(wrong)} symbol(s), e.g. "
            + ", ".join(f"{s}: {before.get(s, 0)} -> {after.get(s, 0)}" for s in wrong[:5])
        )
    return MigratedTable(table.name, sum(before.values()), len(before))
