"""deploy/nginx: the shipped site config, run by the real nginx in front of a real webserver.

The test renders deploy/nginx/stock-pipeline.conf with only its machine-specific values
swapped (ports, certificate, htpasswd path), so what it proves holds for the file users copy.
nginx and openssl are Debian packages that `./run.sh test` (so `.ci/run`) installs if missing.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster
import pytest

from stock_pipeline.settings import PROJECT_DIR
from stock_pipeline_tests.support.dagster_processes import BIN, free_port, prepare_home, wait_for

SITE = PROJECT_DIR / "deploy" / "nginx" / "stock-pipeline.conf"
USER, PASSWORD = "alice", "correct horse"


def tool(name: str) -> str:
    """The path of a Debian tool the proxy test needs, or a failure saying how to get it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail(f"{name} is not installed: run ./run.sh test (it installs nginx and openssl)")
    return found


def render(text: str, replacements: dict[str, str]) -> str:
    """Swap each machine-specific value; a value missing from the file is a failure."""
    for old, new in replacements.items():
        assert old in text, f"{SITE.name} no longer contains {old!r}; update this test"
        text = text.replace(old, new)
    return text


@dataclass
class Proxy:
    https_url: str
    http_url: str
    context: ssl.SSLContext

    def post_graphql(self, query: str, auth: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(
            f"{self.https_url}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, {}


def two_free_ports() -> tuple[int, int]:
    """Two distinct loopback ports: HTTPS and the plain-HTTP redirect."""
    first, second = free_port(), free_port()
    while second == first:
        second = free_port()
    return first, second


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            tool("openssl"),
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def htpasswd_line(user: str, password: str) -> str:
    """The documented way to make an entry without apache2-utils: `openssl passwd -apr1`."""
    hashed = subprocess.run(
        [tool("openssl"), "passwd", "-apr1", "-stdin"],
        input=password,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{user}:{hashed}\n"


@contextmanager
def webserver(home: Path) -> Iterator[int]:
    """dagster-webserver on loopback, as the systemd unit starts it."""
    prepare_home(home)
    port = free_port()
    log = home / "webserver.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "dagster-webserver"),
                *("-w", str(PROJECT_DIR / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)),
            ],
            cwd=PROJECT_DIR,
            env={**os.environ, "DAGSTER_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited; see {log}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return True

        wait_for("dagster-webserver to answer", answers, timeout=120)
        yield port
    finally:
        stop_group(process)


@contextmanager
def nginx(directory: Path, upstream_port: int) -> Iterator[Proxy]:
    """The shipped site under a throw-away main config: foreground, files under directory."""
    cert, key = self_signed_certificate(directory)
    htpasswd = directory / "htpasswd"
    htpasswd.write_text(htpasswd_line(USER, PASSWORD))
    https_port, http_port = two_free_ports()
    site = render(
        SITE.read_text(),
        {
            "server 127.0.0.1:3000;": f"server 127.0.0.1:{upstream_port};",
            "listen [::]:443 ssl;": "",
            "listen [::]:80;": "",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "/etc/ssl/certs/ssl-cert-snakeoil.pem": str(cert),
            "/etc/ssl/private/ssl-cert-snakeoil.key": str(key),
            "/etc/stock-pipeline/htpasswd": str(htpasswd),
        },
    )
    (directory / "site.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would switch to "nobody", who cannot read pytest's tmp dirs.
    (directory / "nginx.conf").write_text(
        f"user {getpass.getuser()};\n"
        "worker_processes 1;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {directory / 'access.log'};\n"
        f"{temp}\n"
        f"    include {directory / 'site.conf'};\n"
        "}\n"
    )
    command = [
        tool("nginx"),
        *("-p", str(directory), "-c", str(directory / "nginx.conf")),
        *("-e", str(directory / "error.log"), "-g", "daemon off;"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with (directory / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(command, start_new_session=True, stderr=stderr)
    context = ssl.create_default_context(cafile=str(cert))
    try:

        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited; see {directory}/error.log and stderr.log")
            with socket.create_connection(("127.0.0.1", https_port), timeout=2):
                return True

        wait_for("nginx to listen", listening, timeout=30, every=0.2)
        yield Proxy(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", context)
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop only the process group this test started."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def websocket_handshake(proxy: Proxy, auth: tuple[str, str]) -> str:
    """Open a GraphQL websocket through the proxy as the UI does; return the status line."""
    host, port = proxy.https_url.removeprefix("https://").split(":")
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: graphql-ws\r\nAuthorization: Basic {token}\r\n\r\n"
    )
    with (
        socket.create_connection((host, int(port)), timeout=30) as raw,
        proxy.context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(request.encode())
        return tls.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


@pytest.mark.integration
def test_the_ui_answers_through_nginx_only_with_the_right_credentials(tmp_path: Path) -> None:
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    with webserver(tmp_path / "dagster_home") as port, nginx(proxy_dir, port) as proxy:
        query = "{ version }"
        assert proxy.post_graphql(query, auth=None)[0] == 401
        assert proxy.post_graphql(query, auth=(USER, "wrong"))[0] == 401
        assert proxy.post_graphql(query, auth=("mallory", PASSWORD))[0] == 401
        status, answer = proxy.post_graphql(query, auth=(USER, PASSWORD))
        assert status == 200
        assert answer["data"]["version"] == dagster.__version__
        assert websocket_handshake(proxy, (USER, PASSWORD)) == "HTTP/1.1 101 Switching Protocols"

        redirect = urllib.request.Request(f"{proxy.http_url}/graphql")
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as plain:
            opener.open(redirect, timeout=10)
        assert plain.value.code == 301
        assert plain.value.headers["Location"].startswith("https://")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let the test see the 301 the plain-HTTP server answers instead of following it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
