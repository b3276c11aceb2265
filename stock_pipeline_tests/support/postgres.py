"""A PostgreSQL database of a test's own (the machine's PostgreSQL), e.g. a lake's catalog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2


@contextmanager
def scratch_database(prefix: str = "stock_pipeline_test") -> Iterator[str]:
    """Create an empty database, yield its name, drop it (and its sessions) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@contextmanager
def postgres_catalog() -> Iterator[str]:
    """A scratch database as a lake setting (``STOCK_PIPELINE_WAREHOUSE``)."""
    with scratch_database("stock_pipeline_lake") as name:
        yield f"postgres:dbname={name} host=127.0.0.1 port=5432 user=postgres"
