"""Shared fixtures: real services on loopback, never mocked clients.

``s3_store`` starts moto's S3 server (a real HTTP endpoint) in-process; ``pg_url``
and ``mysql_url`` give each test its own PostgreSQL schema / MariaDB database.
Where a service is absent the test skips, unless ``FERRY_REQUIRE_SERVICES=1`` (set
by ``.ci/run``), which turns that skip into a failure so CI always exercises them.
"""

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def service_unavailable(what: str) -> None:
    """Skip (or fail under FERRY_REQUIRE_SERVICES=1) because ``what`` is not reachable."""
    if os.environ.get("FERRY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (FERRY_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} is not reachable")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto server mode) on a free loopback port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """AWS variables pointing at the loopback S3 server, set for this test and its children."""
    env = {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "ferry-test",
        "AWS_SECRET_ACCESS_KEY": "ferry-test-secret",
        "AWS_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from steps.runtime.store import s3_filesystem

    s3_filesystem.cache_clear()
    return env


@pytest.fixture
def s3_bucket(s3_env: dict[str, str]) -> str:
    """A fresh bucket on the loopback S3 server; returns ``s3://bucket``."""
    import boto3

    name = f"ferry-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=name)
    return f"s3://{name}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this test's own."""
    if not _port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL on 127.0.0.1:5432")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A MariaDB/MySQL URL to a database of this test's own."""
    if not _port_open("127.0.0.1", 3306):
        service_unavailable("MariaDB on 127.0.0.1:3306")
    import pymysql

    name = f"t_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        yield f"mysql://root@127.0.0.1:3306/{name}"
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
    finally:
        conn.close()


def run_step(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m steps ARGS`` as the runner and the image do: a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "steps", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=240,
    )
