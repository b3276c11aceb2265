"""Arguments of the Python API (and --delay), checked before anything is planned or queued.

Python does not enforce type hints, and a wrong type here used to fail deep inside the
planner (``symbols=123``), or worse, be accepted (``delay=nan`` switched the rate limit
off; ``batch_size=-3`` queued nothing and reported success). Each check raises
``TypeError`` or ``ValueError`` naming the argument, what it got and what it takes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from numbers import Real
from typing import Any


def _got(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def check_symbols(value: Any) -> None:
    """None, ``"AAPL,MSFT"`` or a list of ticker strings."""
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, Sequence):
        raise TypeError(
            f"symbols must be a list of ticker strings such as ['AAPL', 'MSFT'] or a "
            f"comma-separated string, not {_got(value)}"
        )
    for i, symbol in enumerate(value):
        if not isinstance(symbol, str):
            raise TypeError(
                f"symbols[{i}] must be a ticker string such as 'AAPL', not {_got(symbol)}"
            )


def check_symbol(value: Any) -> None:
    """One ticker as a string (``submit_symbol_sync``)."""
    if not isinstance(value, str):
        raise TypeError(
            f"symbol must be one ticker string such as 'AAPL', not {_got(value)}; for several "
            f"symbols use submit_intraday_sync(symbols=[...])"
        )


def check_day(name: str, value: Any) -> None:
    """None, a ``date`` or a ``"YYYY-MM-DD"`` string (a datetime is ambiguous: refused)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a datetime.date or a 'YYYY-MM-DD' string, not {_got(value)}"
        )


def check_delay(value: Any) -> None:
    """None, or a finite number of seconds above zero (NaN and infinity disable nothing)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"delay must be a number of seconds such as 0.5, not {_got(value)}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"delay must be a positive, finite number of seconds, not {value}")


def check_batch_size(value: Any) -> None:
    """None (no cap) or a whole number of symbols per run, at least 1 (as on the CLI)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"batch_size must be a whole number of symbols, not {_got(value)}")
    if value < 1:
        raise ValueError(
            f"batch_size must be at least 1 symbol per run, not {value}; leave it out "
            f"(None) for no cap"
        )


def check_text(name: str, value: Any, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string such as '5m', not {_got(value)}")


def check_flag(name: str, value: Any, optional: bool = False) -> None:
    """True or False: a string such as 'no' would be truthy and force a refetch."""
    if optional and value is None:
        return
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {_got(value)}")
