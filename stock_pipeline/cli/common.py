"""Shared pieces of the command line: exit codes, option parsing, error handling."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

import click

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


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's own errors into a clear message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StockPipelineError as exc:
            fail(str(exc))

    return wrapper
