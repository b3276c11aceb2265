"""Shared pieces of the command line: exit codes, option parsing, error handling."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

import click

from stock_pipeline.cli.faults import explain
from stock_pipeline.domain.errors import StockPipelineError

EXIT_PARTIAL = 1  # some partitions failed; the rest were stored
EXIT_USAGE = 2  # bad flags or input; nothing was changed


def fail(message: str) -> NoReturn:
    """Print what was wrong and exit 2: nothing was changed."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """click callback for YYYY-MM-DD options."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def explained(call: Callable[[], Any]) -> Any:
    """``call()``, with the project's own errors and the machine's faults (those ``explain``
    knows) turned into a message and exit 2; anything else propagates."""
    try:
        return call()
    except StockPipelineError as exc:
        fail(str(exc))
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        fail(message)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's own errors and the machine's faults into a message and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return explained(lambda: fn(*args, **kwargs))

    return wrapper


HELP_FLAGS = {"--help", "-h"}


class GuardedGroup(click.Group):
    """A command group that checks the settings before any command and explains faults.

    A setting that cannot work (``STOCK_PIPELINE_NOW=garbage``) is refused by every command
    up front, so none of them half-runs; ``--help`` still works. A fault raised by any
    command (full disk, damaged warehouse, instance deleted) becomes one line and exit 2.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["stock_pipeline.help"] = bool(HELP_FLAGS & set(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        def validated_then_invoked() -> Any:
            if not ctx.meta.get("stock_pipeline.help"):
                from stock_pipeline import settings

                settings.validate()
            return super(GuardedGroup, self).invoke(ctx)

        return explained(validated_then_invoked)
