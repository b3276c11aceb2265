"""The ``stock-pipeline`` command. Each module adds one concern's commands to ``main``."""

import io
import sys

import click

from stock_pipeline.cli import chart, demo, ops, quarantine, runs, sync, warehouse
from stock_pipeline.cli.common import GuardedGroup


@click.group(cls=GuardedGroup)
def main() -> None:
    """Keep a DuckDB warehouse of US stock prices from Yahoo Finance, through Dagster."""
    _line_buffered_stdout()


def _line_buffered_stdout() -> None:
    """Each line out at once on a pipe or a file too (systemd, cron, CI), not at exit."""
    if isinstance(sys.stdout, io.TextIOWrapper) and not sys.stdout.isatty():
        sys.stdout.reconfigure(line_buffering=True)


for module in (sync, demo, quarantine, ops, runs, chart, warehouse):
    for command in module.COMMANDS:
        main.add_command(command)
