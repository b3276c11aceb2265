"""deploy/: the systemd units and the environment they read agree with the instance file."""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stock_pipeline.settings import PROJECT_DIR

DEPLOY = PROJECT_DIR / "deploy"


def unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name)
    return parser["Service"]


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("dagster-webserver.service", "dagster-webserver"),
        ("dagster-daemon.service", "dagster-daemon"),
    ],
)
def test_units_start_the_project_workspace_with_its_environment(name: str, command: str) -> None:
    service = unit(name)
    exec_start = service["ExecStart"].split()
    assert Path(exec_start[0]).name == command
    assert exec_start[exec_start.index("-w") + 1].endswith("/workspace.yaml")
    assert service["EnvironmentFile"] == "/etc/stock-pipeline/stock-pipeline.env"
    assert service["Restart"] in {"always", "on-failure"}


def test_the_daemon_is_stopped_alone_so_runs_finish() -> None:
    assert unit("dagster-daemon.service")["KillMode"] == "process"


def test_a_celery_worker_unit_runs_the_projects_worker_app_with_the_shared_environment() -> None:
    service = unit("dagster-celery-worker@.service")
    exec_start = service["ExecStart"].split()
    assert Path(exec_start[0]).name == "celery"
    app = exec_start[exec_start.index("-A") + 1]
    assert (PROJECT_DIR / (app.replace(".", "/") + ".py")).is_file()
    assert exec_start[exec_start.index("-A") + 2] == "worker"
    # Each instance its own name; systemd's %H, as systemd reads Celery's %h as a home dir.
    assert exec_start[exec_start.index("--hostname") + 1] == "worker%i@%H"
    assert exec_start[exec_start.index("--concurrency") + 1] == "1"
    assert service["EnvironmentFile"] == "/etc/stock-pipeline/stock-pipeline.env"
    # TERM to Celery's main process alone: a warm shutdown that lets the running step end.
    assert service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) >= 300


def test_every_variable_the_instance_reads_is_in_the_example_environment() -> None:
    config = (DEPLOY / "dagster.yaml").read_text()
    wanted = set(re.findall(r"env: (\w+)", config))
    assert wanted == {
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }
    example = (DEPLOY / "stock-pipeline.env.example").read_text()
    given = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert wanted | {"DAGSTER_HOME", "STOCK_PIPELINE_WAREHOUSE"} <= given


def test_production_and_local_instances_retry_crashed_runs_and_bound_yahoo() -> None:
    for path in (DEPLOY / "dagster.yaml", PROJECT_DIR / "dagster.yaml"):
        config = yaml.safe_load(path.read_text())
        assert config["run_retries"] == {
            "enabled": True,
            "max_retries": 2,
            "retry_on_asset_or_op_failure": False,
        }
        assert config["concurrency"]["pools"]["default_limit"] == 2
        assert "run_coordinator" not in config  # limits live under concurrency
        assert config["run_monitoring"]["enabled"] is True  # runs never left in limbo
        assert config["run_monitoring"]["start_timeout_seconds"] == 180
    production = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert "postgres_db" in production["storage"]["postgres"]


UNITS = ["dagster-webserver.service", "dagster-daemon.service", "dagster-celery-worker@.service"]


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened_and_may_write_only_the_data(name: str) -> None:
    service = unit(name)
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ProtectHome"] == "yes"
    assert service["UMask"] == "0077"
    writable = service["ReadWritePaths"].split()
    example = (DEPLOY / "stock-pipeline.env.example").read_text()
    data = dict(re.findall(r"^(DAGSTER_HOME|STOCK_PIPELINE_\w+)=(/\S+)$", example, re.MULTILINE))
    assert {"DAGSTER_HOME", "STOCK_PIPELINE_DATA_DIR", "STOCK_PIPELINE_WAREHOUSE"} <= set(data)
    for variable, path in data.items():
        assert any(path.startswith(w.rstrip("/") + "/") for w in writable), (variable, path)


@pytest.mark.parametrize("name", UNITS)
def test_systemd_parses_every_directive_of_the_units(name: str, tmp_path: Path) -> None:
    """systemd-analyze verify warns about unknown keys and bad values; none is allowed.

    The venv the units start does not exist here, so ExecStart points at /bin/true.
    """
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: apt-get install systemd"
    text = (DEPLOY / "systemd" / name).read_text()
    copy = tmp_path / name
    copy.write_text(re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", text, flags=re.MULTILINE))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_install_steps_keep_the_password_file_private() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    docs = [p.read_text() for p in (PROJECT_DIR / "docs").glob("*.md")]
    steps = "\n".join([readme, *docs])
    assert "install -m 600 deploy/stock-pipeline.env.example" in steps
    assert "cp deploy/stock-pipeline.env.example" not in steps


def shipped_instance_files() -> list[Path]:
    """Every dagster.yaml in the source tree (not the virtualenv, not local data)."""
    return sorted(
        path
        for path in PROJECT_DIR.rglob("dagster.yaml")
        if not {".venv", ".git", "data"} & set(path.relative_to(PROJECT_DIR).parts)
    )


def test_every_shipped_instance_file_turns_telemetry_off() -> None:
    files = shipped_instance_files()
    assert {PROJECT_DIR / "dagster.yaml", DEPLOY / "dagster.yaml"} <= set(files)
    for path in files:
        config = yaml.safe_load(path.read_text())
        assert config["telemetry"] == {"enabled": False}, path


def test_the_webserver_listens_on_loopback_only_behind_the_proxy() -> None:
    exec_start = unit("dagster-webserver.service")["ExecStart"].split()
    host = exec_start[exec_start.index("-h") + 1]
    port = exec_start[exec_start.index("-p") + 1]
    assert host == "127.0.0.1"
    site = (DEPLOY / "nginx" / "stock-pipeline.conf").read_text()
    assert f"server {host}:{port};" in site
