"""The lake's Parquet files in an S3-compatible bucket (a local moto server started here)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from stock_pipeline.warehouse.lake import Lake
from stock_pipeline.warehouse.maintenance import maintain
from stock_pipeline.warehouse.tables import INTRADAY_PRICES, connect, replace_slices
from stock_pipeline_tests.support.frames import bars

BUCKET = "stock-pipeline-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def objects(endpoint: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [str(o["Key"]) for o in listed]


@pytest.mark.integration
def test_a_lake_with_its_files_in_a_bucket(tmp_path: Path, s3_endpoint: str) -> None:
    lake = Lake.at(tmp_path / "catalog", f"s3://{BUCKET}/warehouse")
    assert lake.on_object_storage
    for price in (100.0, 101.0):
        with connect(lake) as con:
            frame = bars("AAPL", date(2026, 11, 24), price=price)
            replace_slices(con, INTRADAY_PRICES, frame, {"fetched_at": None})
    stored = [k for k in objects(s3_endpoint) if k.startswith("warehouse/main/intraday_prices/")]
    assert stored and all(k.endswith(".parquet") for k in stored)
    assert not list((tmp_path / "catalog").rglob("*.parquet"))  # only the catalog is local
    with connect(lake, read_only=True) as con:
        got = con.execute("SELECT count(*), max(open) FROM intraday_prices").fetchone()
    assert got == (78, 101.0)
    with connect(lake) as con:
        report = maintain(con, timedelta(0), datetime.now(UTC))
    assert report.files_deleted > 0
    left = [k for k in objects(s3_endpoint) if k.startswith("warehouse/main/intraday_prices/")]
    # The two versions (and the table's placeholder file from its creation) were there; only
    # the current version is left.
    assert len(stored) == 3 and len(left) == 1
