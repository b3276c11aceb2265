"""A real ``dagster-webserver`` and ``dagster-daemon`` on a temporary DAGSTER_HOME, for tests.

Both run from the project root with its ``workspace.yaml``, each in its own process group so
that stopping them also stops what they started (code servers, run workers). Their output
goes to log files whose paths a failing test can show.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stock_pipeline.settings import PROJECT_DIR

BIN = Path(sys.executable).parent
LOCATION = "stock_pipeline"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Poll ``probe`` until it returns something truthy; raise naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last_error})")


def prepare_home(home: Path) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml (concurrency, run retries), minus the
    UI's first-visit newsletter dialog, which would cover whatever a test clicks first."""
    home.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((PROJECT_DIR / "dagster.yaml").read_text()) or {}
    config["nux"] = {"enabled": False}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return home


@dataclass
class DagsterProcesses:
    home: Path
    url: str
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            payload = json.loads(answer.read())
        if payload.get("errors"):
            raise ValueError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def location_loaded(self) -> bool:
        data = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name "
            "locationOrLoadError { __typename } } } } }"
        )
        for entry in data["workspaceOrError"]["locationEntries"]:
            kind = entry["locationOrLoadError"] and entry["locationOrLoadError"]["__typename"]
            if entry["name"] == LOCATION and kind == "RepositoryLocation":
                return True
            if entry["name"] == LOCATION and kind == "PythonError":
                raise RuntimeError(f"code location failed to load; see {self.logs['webserver']}")
        return False

    def daemon_healthy(self) -> bool:
        data = self.graphql(
            "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"
        )
        statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
        return all(s["healthy"] for s in statuses if s["required"])

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; see {self.logs[name]}"
                )

    def stop(self) -> None:
        """TERM each process group; KILL what is left of it (run workers too) after a grace."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the group ``process`` leads (its own session): only what this test started."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@contextmanager
def dagster_processes(
    home: Path, env: Mapping[str, str], startup_timeout: float = 120.0
) -> Iterator[DagsterProcesses]:
    """Start the webserver and the daemon; yield once the UI serves the code location."""
    prepare_home(home)
    port = free_port()
    full_env = {**os.environ, **env, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    workspace = str(PROJECT_DIR / "workspace.yaml")
    commands = {
        "webserver": [
            str(BIN / "dagster-webserver"),
            *("-w", workspace, "-h", "127.0.0.1", "-p", str(port)),
        ],
        "daemon": [str(BIN / "dagster-daemon"), "run", "-w", workspace],
    }
    stack = DagsterProcesses(
        home=home,
        url=f"http://127.0.0.1:{port}",
        logs={name: home / f"{name}.log" for name in commands},
    )
    try:
        for name, command in commands.items():
            with stack.logs[name].open("wb") as log:
                stack.processes[name] = subprocess.Popen(
                    command,
                    cwd=PROJECT_DIR,
                    env=full_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

        def ready() -> bool:
            stack.check_alive()
            try:
                return stack.location_loaded()
            except urllib.error.URLError:
                return False

        wait_for("the Dagster webserver to load the code location", ready, startup_timeout)
        yield stack
    finally:
        stack.stop()


@contextmanager
def dagster_daemon(
    home: Path, env: Mapping[str, str], startup_timeout: float = 180.0
) -> Iterator[DagsterProcesses]:
    """Start ``dagster-daemon`` alone (no UI); yield once its run queue beats.

    ``url`` is empty: there is no webserver to ask; read the instance instead.
    """
    import dagster as dg

    from stock_pipeline.background.daemon import QUEUE_DAEMON

    prepare_home(home)
    full_env = {**os.environ, **env, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    stack = DagsterProcesses(home=home, url="", logs={"daemon": home / "daemon.log"})
    # The instance's storage is created here, before the daemon opens it: two processes
    # creating a SQLite instance at once race on its schema migrations.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        try:
            with stack.logs["daemon"].open("wb") as log:
                stack.processes["daemon"] = subprocess.Popen(
                    [str(BIN / "dagster-daemon"), "run", "-w", str(PROJECT_DIR / "workspace.yaml")],
                    cwd=PROJECT_DIR,
                    env=full_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

            def beating() -> bool:
                stack.check_alive()
                return QUEUE_DAEMON in instance.get_daemon_heartbeats()

            wait_for("dagster-daemon's run queue to beat", beating, startup_timeout)
            yield stack
        finally:
            stack.stop()
