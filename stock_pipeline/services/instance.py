"""The Dagster instance the command line uses: $DAGSTER_HOME, else a project-local one."""

from __future__ import annotations

import os
import shutil

import dagster as dg

from stock_pipeline import settings


def ensure_dagster_home() -> str:
    """Set DAGSTER_HOME to the project-local default when unset; give it a dagster.yaml."""
    home = settings.dagster_home()
    settings.make_private_dir(home)
    config = home / "dagster.yaml"
    template = settings.PROJECT_DIR / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return str(home)


def get_instance() -> dg.DagsterInstance:
    ensure_dagster_home()
    return dg.DagsterInstance.get()
