"""The ``stock-pipeline`` command. Each module adds one concern's commands to ``main``."""

import click

from stock_pipeline.cli import chart, demo, ops, quarantine, runs, sync, warehouse


@click.group()
def main() -> None:
    """Keep a DuckDB warehouse of US stock prices from Yahoo Finance, through Dagster."""


for module in (sync, demo, quarantine, ops, runs, chart, warehouse):
    for command in module.COMMANDS:
        main.add_command(command)
