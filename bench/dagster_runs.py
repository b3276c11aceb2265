"""Driving Dagster as its UI and daemon do, on a scratch instance.

A backfill is launched through the UI's GraphQL mutation (``launchPartitionBackfill``),
executed in-process against the schema, and then run by the backfill daemon: either its
iteration called in this process (runs launched one by one, synchronously, by the in-memory
run launcher) or a real ``dagster-daemon run`` process launching each run in its own process
with the project's ``dagster.yaml``. Dagster has no public API for either, so the private
imports this needs live here and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.backfill import execute_backfill_iteration
from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION
from dagster_graphql.schema import create_schema

from bench.harness import REPO, environment

BACKFILL_TAG = "dagster/backfill"
FINISHED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}
_IN_PROCESS_LAUNCHER = """
# Runs are queued by the backfill daemon and launched one by one, in this process.
run_launcher:
  module: dagster._core.launcher.sync_in_memory_run_launcher
  class: SyncInMemoryRunLauncher
"""
STORAGES = ("sqlite", "postgres")
log = logging.getLogger(__name__)


def make_home(home: Path, launcher: str, storage: str = "sqlite") -> Path:
    """A DAGSTER_HOME with the project's instance settings: ``dagster.yaml`` (SQLite, the
    local default) or ``deploy/dagster.yaml`` (PostgreSQL, production); runs launched by
    dagster-daemon as configured there, or (``launcher="in_process"``) in this process."""
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES}, not {storage!r}")
    home.mkdir(parents=True, exist_ok=True)
    source = REPO / "deploy" / "dagster.yaml" if storage == "postgres" else REPO / "dagster.yaml"
    text = source.read_text()
    if launcher == "in_process":
        text += _IN_PROCESS_LAUNCHER
    (home / "dagster.yaml").write_text(text)
    return home


@contextmanager
def postgres_database() -> Iterator[dict[str, str]]:
    """A scratch database on the local PostgreSQL (127.0.0.1:5432, user postgres, trust
    auth, as the project's integration tests use it), dropped afterwards; its settings as
    deploy/dagster.yaml reads them from the environment."""
    import psycopg2

    name = f"stock_pipeline_bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {
                "DAGSTER_PG_HOST": "127.0.0.1",
                "DAGSTER_PG_PORT": "5432",
                "DAGSTER_PG_USER": "postgres",
                "DAGSTER_PG_PASSWORD": "",
                "DAGSTER_PG_DB": name,
            }
        finally:
            with admin.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.close()


@contextmanager
def scratch_instance(
    home: Path, launcher: str = "in_process", storage: str = "sqlite"
) -> Iterator[dg.DagsterInstance]:
    """A real Dagster instance in ``home`` (which becomes DAGSTER_HOME for the block) on
    SQLite files there or on a scratch PostgreSQL database."""
    make_home(home, launcher, storage)
    with ExitStack() as stack:
        if storage == "postgres":
            stack.enter_context(environment(**stack.enter_context(postgres_database())))
        stack.enter_context(environment(DAGSTER_HOME=str(home)))
        instance = stack.enter_context(dg.DagsterInstance.get())
        yield instance


@contextmanager
def workspace(instance: dg.DagsterInstance, module: str) -> Iterator[WorkspaceProcessContext]:
    """The code location ``module`` loaded in this process, as the webserver sees it."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name=module, working_directory=str(REPO))
    )
    with WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as context:
        yield context


def _backfill_params(asset: str, keys: Sequence[str]) -> dict[str, Any]:
    """The variables the UI sends when a user backfills ``keys`` of ``asset``."""
    return {"backfillParams": {"assetSelection": [{"path": [asset]}], "partitionNames": list(keys)}}


def _backfill_id(data: dict[str, Any]) -> str:
    """The backfill's id from ``launchPartitionBackfill``'s answer, or why it was refused."""
    answer = data["launchPartitionBackfill"]
    if answer["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill refused: {answer}")
    return str(answer["backfillId"])


def launch_backfill(context: WorkspaceProcessContext, asset: str, keys: Sequence[str]) -> str:
    """What the UI sends when a user backfills ``keys`` of ``asset``, run by the webserver's
    GraphQL schema in this process; the backfill's id."""
    result = asyncio.run(
        create_schema().execute_async(
            LAUNCH_PARTITION_BACKFILL_MUTATION,
            context_value=context.create_request_context(),
            variable_values=_backfill_params(asset, keys),
        )
    )
    if result.errors:
        raise RuntimeError(f"launchPartitionBackfill failed: {result.errors}")
    return _backfill_id(dict(result.data or {}))


def get_backfill(instance: dg.DagsterInstance, backfill_id: str) -> PartitionBackfill:
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise KeyError(f"no backfill {backfill_id}")
    return backfill


def backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    records = instance.get_run_records(filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}))
    return [r.dagster_run for r in records]


def iterate_backfill_daemon(context: WorkspaceProcessContext) -> None:
    """One iteration of the backfill daemon, in this process."""
    for error in execute_backfill_iteration(context, log):
        if error is not None:
            raise RuntimeError(f"backfill daemon iteration failed: {error.to_string()}")


def submit_all_runs(
    context: WorkspaceProcessContext, backfill_id: str, timeout: float = 1800
) -> list[dg.DagsterRun]:
    """Iterate the backfill daemon until it has submitted a run for every target partition."""
    instance = context.instance
    deadline = time.monotonic() + timeout
    while True:
        iterate_backfill_daemon(context)
        backfill = get_backfill(instance, backfill_id)
        data = backfill.asset_backfill_data
        if data is None or data.requested_subset == data.target_subset:
            return backfill_runs(instance, backfill_id)
        if backfill.status != BulkActionStatus.REQUESTED or time.monotonic() > deadline:
            raise RuntimeError(f"backfill {backfill_id} stopped submitting: {backfill.status}")


def launch_queued(context: WorkspaceProcessContext, runs: Sequence[dg.DagsterRun]) -> None:
    """Launch queued runs as the run queue daemon would, one after another, in this process."""
    request = context.create_request_context()
    for run in runs:
        context.instance.launch_run(run.run_id, request)


def finish_backfill(
    context: WorkspaceProcessContext, backfill_id: str, timeout: float = 600
) -> PartitionBackfill:
    """Iterate the backfill daemon until it records the backfill as done."""
    deadline = time.monotonic() + timeout
    while True:
        iterate_backfill_daemon(context)
        backfill = get_backfill(context.instance, backfill_id)
        if backfill.status != BulkActionStatus.REQUESTED:
            return backfill
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill_id} still {backfill.status} after {timeout}s")
        time.sleep(0.2)


@contextmanager
def daemon_process(log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` on the project's workspace, with this process's environment."""
    executable = Path(sys.executable).with_name("dagster-daemon")
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [str(executable), "run", "-w", str(REPO / "workspace.yaml")],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the daemon we started and the run processes it launched (its process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # The code server and run workers it started share its process group: end them too.
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(0.5)
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for_backfill(
    instance: dg.DagsterInstance,
    backfill_id: str,
    proc: subprocess.Popen[bytes],
    timeout: float,
) -> PartitionBackfill:
    """Poll until the daemon marks the backfill done and every run of it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited with {proc.returncode}")
        backfill = get_backfill(instance, backfill_id)
        runs = backfill_runs(instance, backfill_id)
        done = backfill.status != BulkActionStatus.REQUESTED
        if done and all(r.status in FINISHED for r in runs):
            return backfill
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill_id} not done after {timeout}s")
        time.sleep(1.0)


def run_timings(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """Where a run's time went, from its event log: run and step seconds, events by type."""
    events: dict[str, int] = {}
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    run_start = run_end = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        events[kind] = events.get(kind, 0) + 1
        if kind == "STEP_START" and entry.step_key:
            starts[entry.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in starts:
            steps[entry.step_key] = round(entry.timestamp - starts[entry.step_key], 2)
        elif kind == "PIPELINE_START":
            run_start = entry.timestamp
        elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = entry.timestamp
    return {
        "run_seconds": round(run_end - run_start, 2) if run_start and run_end else None,
        "step_seconds": steps,
        "events": sum(events.values()),
        "events_by_type": events,
    }


@dataclass
class Webserver:
    """A real ``dagster-webserver`` process serving one code location over HTTP."""

    url: str
    proc: subprocess.Popen[bytes]
    log_file: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST the query to ``/graphql`` as the UI does; its data, or an error naming it."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            payload = json.loads(answer.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL query failed: {payload['errors']}")
        return dict(payload.get("data") or {})

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the webserver process has spent so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def launch_backfill(self, asset: str, keys: Sequence[str]) -> str:
        """What the UI sends when a user backfills ``keys`` of ``asset``; the backfill's id."""
        data = self.graphql(LAUNCH_PARTITION_BACKFILL_MUTATION, _backfill_params(asset, keys))
        return _backfill_id(data)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def webserver(home: Path, module: str, timeout: float = 300.0) -> Iterator[Webserver]:
    """``dagster-webserver`` on the instance in ``home`` and the code location ``module``;
    yielded once that location has loaded (the page's queries then time only themselves)."""
    executable = Path(sys.executable).with_name("dagster-webserver")
    port = _free_port()
    log_file = home / f"webserver-{port}.log"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [str(executable), "-m", module, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(f"http://127.0.0.1:{port}", proc, log_file)
    try:
        deadline = time.monotonic() + timeout
        while not _location_loaded(server):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_file.read_text()[-2000:]
                raise RuntimeError(f"dagster-webserver did not serve {module}:\n{tail}")
            time.sleep(0.5)
        yield server
    finally:
        _stop(proc)


def _location_loaded(server: Webserver) -> bool:
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { "
        "locationOrLoadError { __typename } } } } }"
    )
    try:
        data = server.graphql(query)
    except (urllib.error.URLError, ConnectionError, RuntimeError):
        return False
    entries = data["workspaceOrError"]["locationEntries"]
    kinds = [e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] for e in entries]
    if "PythonError" in kinds:
        raise RuntimeError(f"the code location failed to load in dagster-webserver: {kinds}")
    return bool(kinds) and all(kind == "RepositoryLocation" for kind in kinds)
