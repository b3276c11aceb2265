"""symbols quarantined, symbols enable: seeing and lifting dead-symbol quarantines.

Both are subcommands of the ``symbols`` group (defined with add/remove/list in ``sync.py``)
so every symbol command lives under one word; this module attaches them to that group.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from stock_pipeline.cli.common import guarded
from stock_pipeline.cli.sync import symbols
from stock_pipeline.domain.symbols import parse_symbols


@symbols.command("quarantined")
def symbols_quarantined() -> None:
    """Symbols left out of syncs after repeated not-found/empty answers from Yahoo."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.quarantine import quarantined_symbols

    found = quarantined_symbols(get_instance())
    if not found:
        click.echo("no quarantined symbols")
        return
    for symbol, record in found.items():
        click.echo(
            f"{symbol}\tsince {record.quarantined_at}\t{record.failures} failed run(s)\t"
            f"last: {record.last_reason}"
        )
    click.echo(f"re-enable with: stock-pipeline symbols enable {' '.join(found)}")


@symbols.command("enable")
@click.argument("tickers", nargs=-1, required=True)
@guarded
def symbols_enable(tickers: Sequence[str]) -> None:
    """Lift the quarantine of symbols: schedules and sensors sync them again."""
    from stock_pipeline.services.instance import get_instance
    from stock_pipeline.services.quarantine import enable_symbol

    instance = get_instance()
    for symbol in parse_symbols(",".join(tickers)):
        if enable_symbol(instance, symbol) is None:
            click.echo(f"{symbol}: not quarantined")
        else:
            click.echo(f"{symbol}: enabled (failure count reset)")


# Attached to the ``symbols`` group above; nothing of its own for ``main``.
COMMANDS: list[click.Command] = []
