"""Real Celery step workers and a Redis database of the test's own, for tests.

Each worker is ``celery -A stock_pipeline.defs.celery_worker worker`` (what the systemd unit
``deploy/systemd/dagster-celery-worker@.service`` starts), in its own process group so that
stopping it also stops its pool process. Its output goes to a log file a failing test can
show.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis

from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline_tests.support.dagster_processes import BIN, wait_for

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
WORKER_APP = "stock_pipeline.defs.celery_worker"
CLAIM_KEY = "stock_pipeline_tests:claimed_by"
CLAIM_SECONDS = 3600  # a crashed test's database is free again after an hour


@contextmanager
def redis_test_database() -> Iterator[int]:
    """A Redis database number (1-15) nobody else uses, flushed when the test ends.

    Claimed atomically (``SET NX`` of a marker key in an empty database), so parallel tests
    and the default database 0 of a running deployment are left alone.
    """
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT).ping()
    except redis.ConnectionError as exc:
        raise RuntimeError(
            f"Redis is not running on {REDIS_HOST}:{REDIS_PORT} ({exc}); start it with "
            f"`redis-server --daemonize yes --bind 127.0.0.1 --port {REDIS_PORT} --save ''`"
        ) from exc
    for number in range(1, 16):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
        if not client.set(CLAIM_KEY, os.getpid(), nx=True, ex=CLAIM_SECONDS):
            continue
        if client.dbsize() != 1:  # in use by something that is not a test
            client.delete(CLAIM_KEY)
            continue
        try:
            yield number
        finally:
            client.flushdb()
        return
    raise RuntimeError(f"no free Redis database among 1-15 on {REDIS_HOST}:{REDIS_PORT}")


@dataclass
class CeleryWorkers:
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def pool_pids(self) -> dict[int, str]:
        """Each live pool process's pid, mapped to the name of the worker it belongs to."""
        found: dict[int, str] = {}
        by_parent = {process.pid: name for name, process in self.processes.items()}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent in by_parent:
                    found[int(entry.name)] = by_parent[parent]
        return found

    def log_tails(self, chars: int = 4000) -> str:
        return "\n".join(
            f"--- {name} ---\n{path.read_text(errors='replace')[-chars:]}"
            for name, path in self.logs.items()
            if path.exists()
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"Celery worker {name} exited with {process.returncode}:\n{self.log_tails()}"
                )

    def ready(self) -> bool:
        self.check_alive()
        return all(
            f"{name}@" in text and " ready." in text
            for name, text in ((n, p.read_text(errors="replace")) for n, p in self.logs.items())
        )

    def stop(self) -> None:
        """TERM each worker's group (a warm shutdown), KILL what is left after a grace."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def celery_workers(
    names: Sequence[str], env: Mapping[str, str], logs: Path, startup_timeout: float = 120.0
) -> Iterator[CeleryWorkers]:
    """Start one worker per name (concurrency 1); yield once every one says it is ready."""
    logs.mkdir(parents=True, exist_ok=True)
    workers = CeleryWorkers(logs={name: logs / f"celery-{name}.log" for name in names})
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    try:
        for name in names:
            command = [
                str(BIN / "celery"),
                *("-A", WORKER_APP, "worker"),
                *("--hostname", f"{name}@%h", "--concurrency", "1", "--loglevel", "INFO"),
            ]
            with workers.logs[name].open("wb") as log:
                workers.processes[name] = subprocess.Popen(
                    command,
                    cwd=PROJECT_DIR,
                    env=full_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        try:
            wait_for("the Celery workers to be ready", workers.ready, startup_timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{workers.log_tails()}") from None
        yield workers
    finally:
        workers.stop()
