"""The command line's Dagster instance: $DAGSTER_HOME, else one under the data directory."""

import os
from pathlib import Path

import pytest

from stock_pipeline import settings
from stock_pipeline.services.instance import ensure_dagster_home, get_instance


def test_unset_dagster_home_becomes_the_project_local_one_with_its_config(
    isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", "")  # unset, and restored after the test
    home = isolated_paths / "dagster_home"
    assert ensure_dagster_home() == str(home)
    assert os.environ["DAGSTER_HOME"] == str(home)
    assert (home / "dagster.yaml").read_text() == (
        settings.PROJECT_DIR / "dagster.yaml"
    ).read_text()


def test_an_existing_config_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert ensure_dagster_home() == str(home)
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_the_instance_keeps_what_is_stored_on_it(
    isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(isolated_paths / "dagster_home"))
    get_instance().add_dynamic_partitions("symbols", ["AAPL"])
    assert get_instance().get_dynamic_partitions("symbols") == ["AAPL"]
