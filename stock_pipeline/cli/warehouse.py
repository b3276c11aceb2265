"""sql and warehouse: query the lake (now or as of a past instant), migrate an old file."""

from __future__ import annotations

from pathlib import Path

import click

from stock_pipeline.cli.common import fail, guarded


@click.command()
@click.argument("query")
@click.option(
    "--as-of",
    "as_of",
    metavar="TIMESTAMP",
    help="Answer from the warehouse as it was at this ISO instant (UTC unless it has a "
    "zone), e.g. 2026-11-24T21:00:00Z. Snapshots are kept $STOCK_PIPELINE_SNAPSHOT_"
    "RETENTION_DAYS (default 7) days.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@guarded
def sql(query: str, as_of: str | None, as_csv: bool) -> None:
    """Run a read-only SQL QUERY on the warehouse and print the result."""
    import duckdb

    from stock_pipeline.warehouse.lake import LakeUnavailableError
    from stock_pipeline.warehouse.reader import connect, parse_instant

    try:
        moment = parse_instant(as_of) if as_of else None
    except ValueError as exc:
        fail(f"--as-of: {exc}")
    try:
        con = connect(as_of=moment)
    except (LakeUnavailableError, duckdb.Error) as exc:
        fail(f"cannot open the warehouse{f' as of {as_of}' if as_of else ''}: {exc}")
    try:
        frame = con.execute(query).df()
    except duckdb.Error as exc:
        fail(f"the query failed: {exc}")
    finally:
        con.close()
    if as_csv:
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        click.echo(frame.to_string(index=False) if not frame.empty else "(no rows)")


@click.group()
def warehouse() -> None:
    """The warehouse lake itself: migrate an old DuckDB file into it."""


@warehouse.command()
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path),
    default=None,
    help="The old warehouse: a DuckDB file or an EXPORT DATABASE folder. Default: "
    "$STOCK_PIPELINE_DUCKDB, else data/warehouse.duckdb.",
)
@guarded
def migrate(source: Path | None) -> None:
    """Copy an old single-file warehouse into the lake, verify rows per table and symbol.

    The old file is only read and stays where it is.
    """
    from stock_pipeline import settings
    from stock_pipeline.warehouse.lake import Lake
    from stock_pipeline.warehouse.migrate import migrate as copy

    lake = Lake.from_settings()
    old = source or settings.duckdb_path()
    for done in copy(old, lake):
        click.echo(f"{done.table:<16} {done.rows:>10} rows  {done.symbols:>5} symbol(s)  verified")
    click.echo(f"migrated {old} into {lake}; {old} is unchanged")


COMMANDS = [sql, warehouse]
