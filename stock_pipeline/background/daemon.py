"""Is ``dagster-daemon`` running for this instance? Queued runs wait for it; say so."""

from __future__ import annotations

import time

import dagster as dg

QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"  # the daemon that launches queued runs
STALE_AFTER_SECONDS = 120.0  # the daemon beats every 20–30 s; two missed beats is down
START_HINT = (
    "start it from the project root with `dagster-daemon run -w workspace.yaml` (or "
    "`dagster dev -w workspace.yaml`, which runs the daemon and the UI), with the same "
    "DAGSTER_HOME"
)


def heartbeat_age(instance: dg.DagsterInstance) -> float | None:
    """Seconds since the run-queue daemon last beat, or None if it never ran here.

    Heartbeats carry the real clock, so this uses ``time.time()``, never the pinned clock.
    """
    beat = instance.get_daemon_heartbeats().get(QUEUE_DAEMON)
    if beat is None:
        return None
    return max(0.0, time.time() - beat.timestamp)


def daemon_running(instance: dg.DagsterInstance) -> bool:
    age = heartbeat_age(instance)
    return age is not None and age < STALE_AFTER_SECONDS


def not_running_message(instance: dg.DagsterInstance) -> str:
    """Why queued runs are not starting, with how to fix it."""
    age = heartbeat_age(instance)
    seen = "has never run" if age is None else f"last beat {age:.0f}s ago"
    return f"dagster-daemon is not running for this instance ({seen}): {START_HINT}"
