"""Which step failures the step RetryPolicy may retry: transient ones only.

Dagster hands every plain exception raised in a step to the step's ``RetryPolicy``, so a
setting that cannot work (a file that is not a DuckDB database, an ``ftp://`` Yahoo URL,
a bug) was retried like an outage for about 4 minutes before failing. Inside
``permanent_failures`` such an error becomes ``dg.Failure(allow_retries=False)`` at once,
with the reason first; only errors marked transient (429, 5xx, timeouts, a dropped
connection) are left to the policy. A stop request (Ctrl-C, SIGTERM) is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from stock_pipeline.domain import stopping
from stock_pipeline.domain.errors import StockPipelineError

log = logging.getLogger(__name__)
_TRANSIENT_BUILTINS = (TimeoutError, ConnectionError)


def is_transient(exc: BaseException) -> bool:
    """True when trying the step again later can help."""
    if isinstance(exc, StockPipelineError):
        return exc.transient
    return isinstance(exc, _TRANSIENT_BUILTINS)


def retry_notice(retry_number: int, policy: dg.RetryPolicy, reason: str) -> str:
    """What a transient step failure leads to: the next attempt, and when the step gives up."""
    attempts = policy.max_retries + 1
    attempt = retry_number + 1
    first_line = reason.strip().splitlines()[0] if reason.strip() else "transient error"
    if attempt >= attempts:
        return f"attempt {attempt} of {attempts} failed ({first_line}); giving up"
    plain = dg.RetryPolicy(
        max_retries=policy.max_retries, delay=policy.delay, backoff=policy.backoff
    )
    jitter = (policy.delay or 0) if policy.jitter is not None else 0
    wait = plain.calculate_delay(attempt)
    total = sum(plain.calculate_delay(n) + jitter for n in range(attempt, attempts))
    return (
        f"attempt {attempt} of {attempts} failed ({first_line}); Dagster retries the step in "
        f"about {wait:.0f} s; it gives up after attempt {attempts}, at most about "
        f"{total / 60:.1f} min of waiting from now (Ctrl-C stops it now)"
    )


@contextmanager
def permanent_failures(
    context: dg.AssetExecutionContext | None = None, policy: dg.RetryPolicy | None = None
) -> Iterator[None]:
    """Turn every non-transient error raised inside into a Failure that is not retried;
    say (as a warning) when a transient one will be retried, and when the step gives up."""
    try:
        yield
    except Exception as exc:
        if stopping.stop_requested() or isinstance(exc, stopping.SyncStopped):
            raise dg.Failure(
                f"{stopping.stop_reason()}: stopped before storing anything of this run",
                allow_retries=False,
            ) from exc
        if isinstance(exc, dg.Failure):
            retried = exc.allow_retries
        else:
            retried = is_transient(exc)
            if not retried:
                raise dg.Failure(f"{type(exc).__name__}: {exc}", allow_retries=False) from exc
        if retried and context is not None and policy is not None:
            reason = exc.description if isinstance(exc, dg.Failure) else f"{exc}"
            log.warning(
                "%s: %s",
                context.asset_key.to_user_string(),
                retry_notice(context.retry_number, policy, reason or type(exc).__name__),
            )
        raise
