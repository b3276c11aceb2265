"""Is the run-queue daemon there: its heartbeat's age, and what to tell a person when it is not."""

import time

import dagster as dg
from dagster._daemon.types import DaemonHeartbeat

from stock_pipeline.background.daemon import (
    QUEUE_DAEMON,
    STALE_AFTER_SECONDS,
    START_HINT,
    daemon_running,
    heartbeat_age,
    not_running_message,
)


def test_an_instance_without_a_daemon_has_no_heartbeat(instance: dg.DagsterInstance) -> None:
    assert heartbeat_age(instance) is None and not daemon_running(instance)


def beat(instance: dg.DagsterInstance, seconds_ago: float) -> None:
    instance.add_daemon_heartbeat(
        DaemonHeartbeat(time.time() - seconds_ago, QUEUE_DAEMON, None, None)
    )


def test_a_recent_heartbeat_is_a_running_daemon(instance: dg.DagsterInstance) -> None:
    beat(instance, 5)
    age = heartbeat_age(instance)
    assert age is not None and 5 <= age < 60
    assert daemon_running(instance)


def test_two_missed_beats_are_a_stopped_daemon_and_the_message_says_how_to_start_it(
    instance: dg.DagsterInstance,
) -> None:
    beat(instance, STALE_AFTER_SECONDS + 180)
    assert not daemon_running(instance)
    message = not_running_message(instance)
    assert "last beat 300s ago" in message and START_HINT in message


def test_a_daemon_that_never_ran_is_named_so(instance: dg.DagsterInstance) -> None:
    assert "has never run" in not_running_message(instance)
    assert "dagster-daemon run -w workspace.yaml" in not_running_message(instance)


def test_other_daemons_heartbeats_do_not_count(instance: dg.DagsterInstance) -> None:
    instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "SENSOR", None, None))
    assert heartbeat_age(instance) is None
