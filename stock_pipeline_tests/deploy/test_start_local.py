"""deploy/start-local.sh starts the webserver and the daemon, and stops both on SIGTERM."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from stock_pipeline.settings import PROJECT_DIR

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def as_from_a_shell() -> None:
    """In the child: SIGTERM and SIGINT as a login shell gives them (default, unblocked).

    Ignored or blocked signals are inherited across exec, and bash cannot trap a signal
    that was ignored when it started; a pytest worker that has run other tests may have
    either (in this session's CI runs the script and its daemon never saw the SIGTERM,
    though the script stops in seconds when started from a shell or alone).
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def test_start_local_runs_both_and_stops_both(tmp_path: Path) -> None:
    home, logs, port = tmp_path / "home", tmp_path / "logs", free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PORT": str(port),
        "LOG_DIR": str(logs),
    }
    script = subprocess.Popen(
        [str(PROJECT_DIR / "deploy" / "start-local.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=as_from_a_shell,
    )
    try:
        deadline = time.monotonic() + 150
        up = beating = False
        while time.monotonic() < deadline and not (up and beating):
            time.sleep(2)
            assert script.poll() is None, script.stdout.read() if script.stdout else ""
            up = up or answers(f"http://127.0.0.1:{port}/server_info")
            if up and not beating:  # the storage exists once the webserver answers
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    beating = "SCHEDULER" in instance.get_daemon_heartbeats()
        logs_text = "\n".join(p.read_text()[-2000:] for p in logs.glob("*.log"))
        assert up, f"the webserver never answered on port {port}\n{logs_text}"
        assert beating, f"the daemon never sent a heartbeat\n{logs_text}"
        assert (home / "dagster.yaml").read_text() == (PROJECT_DIR / "dagster.yaml").read_text()

        script.send_signal(signal.SIGTERM)
        # The daemon finishes its current ticks first; with another test run sharing the
        # 2 cores that once took over 60 s (it takes a few seconds on a quiet machine).
        script.wait(timeout=150)
        stopped = time.monotonic() + 30
        while group_alive(script.pid) and time.monotonic() < stopped:
            time.sleep(0.5)
        assert not group_alive(script.pid), "the daemon or webserver outlived the script"
    finally:
        if group_alive(script.pid):
            os.killpg(script.pid, signal.SIGKILL)
        script.wait(timeout=30)
