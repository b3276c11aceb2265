"""Where a launched run's steps execute: in the run's own process, or on Celery workers.

Read from the environment of the process that loads the code location (the daemon's code
server and the run worker it starts, the webserver), and of each Celery worker, which must
name the same broker and result backend:

- ``STOCK_PIPELINE_EXECUTOR``: ``in_process`` (default: every step of a run in the run's
  process) or ``celery`` (each step a Celery task, run by whichever worker takes it);
- ``STOCK_PIPELINE_CELERY_BROKER`` / ``STOCK_PIPELINE_CELERY_BACKEND``: the broker the
  steps are queued on and the backend their results come back through (both default to
  the local Redis, ``redis://127.0.0.1:6379/0``).

Syncs in the foreground of the command line always run in their own process (Dagster's
``execute_in_process``), whatever is set here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum

from stock_pipeline.domain.errors import InvalidSettingError

EXECUTOR_ENV = "STOCK_PIPELINE_EXECUTOR"
CELERY_BROKER_ENV = "STOCK_PIPELINE_CELERY_BROKER"
CELERY_BACKEND_ENV = "STOCK_PIPELINE_CELERY_BACKEND"
DEFAULT_CELERY_URL = "redis://127.0.0.1:6379/0"

# scheme://rest, as Celery/kombu spell broker and backend URLs (redis, rediss, amqp,
# pyamqp, sqs, db+postgresql…); a bare host:port or a path is not one.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$")
_REDIS_SCHEMES = {"redis", "rediss"}


class ExecutorKind(StrEnum):
    IN_PROCESS = "in_process"
    CELERY = "celery"


@dataclass(frozen=True)
class CelerySettings:
    broker: str
    backend: str


def executor_kind() -> ExecutorKind:
    """The executor ``STOCK_PIPELINE_EXECUTOR`` names; unset or empty: in_process."""
    raw = os.environ.get(EXECUTOR_ENV, "").strip()
    if not raw:
        return ExecutorKind.IN_PROCESS
    name = raw.lower().replace("-", "_")
    try:
        return ExecutorKind(name)
    except ValueError:
        raise InvalidSettingError(
            f"{EXECUTOR_ENV}={raw!r} is not an executor: set it to 'in_process' (the default: "
            f"a run's steps in the run's own process) or 'celery' (steps on Celery workers, "
            f"with {CELERY_BROKER_ENV} and {CELERY_BACKEND_ENV}), or unset it"
        ) from None


def _celery_url(name: str) -> str:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return DEFAULT_CELERY_URL
    if not _URL.match(raw):
        raise InvalidSettingError(
            f"{name}={raw!r} is not a Celery URL: set it to scheme://host:port/…, such as "
            f"{DEFAULT_CELERY_URL} (Redis database 0) or amqp://user:password@host:5672//, "
            f"or unset it for {DEFAULT_CELERY_URL}"
        )
    scheme, rest = raw.split("://", 1)
    database = rest.split("?", 1)[0].partition("/")[2]
    if scheme.lower() in _REDIS_SCHEMES and database and not database.isdigit():
        raise InvalidSettingError(
            f"{name}={raw!r} names Redis database {database!r}: Redis databases are numbers "
            f"(redis://host:6379/0 … /15)"
        )
    return raw


def celery_settings() -> CelerySettings:
    """Broker and result backend of the Celery executor and its workers."""
    return CelerySettings(
        broker=_celery_url(CELERY_BROKER_ENV), backend=_celery_url(CELERY_BACKEND_ENV)
    )


def validate() -> None:
    """Raise InvalidSettingError if the executor settings cannot work."""
    if executor_kind() is ExecutorKind.CELERY:
        celery_settings()
