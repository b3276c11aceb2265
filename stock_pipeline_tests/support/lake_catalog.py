"""A PostgreSQL database of a test's own for a lake's catalog (the machine's PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2


@contextmanager
def postgres_catalog() -> Iterator[str]:
    """Create an empty database, yield the lake setting naming it, drop it afterwards."""
    name = f"stock_pipeline_lake_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres:dbname={name} host=127.0.0.1 port=5432 user=postgres"
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
