"""``ferry run``: a step that exits 2 or 3 runs once; one that exits 1 is retried.

The HTTP source talks to a loopback server that counts requests, the target is the
real PostgreSQL; the attempts come from the run record ``ferry run --output json``
prints, executed from the rendered manifest like on Argo.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ferry_cli import ferry
from tests.sources.http_server import Reply, ScriptedServer, script, serve
from tests.targets.sqlhelp import execute, fetch

PIPELINES = str(Path(__file__).parent / "pipelines")


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """(url, schema) of this test's own PostgreSQL schema."""
    yield pg_url, pg_url.rsplit("%3D", 1)[1]


def _run(tmp_path: Path, server: ScriptedServer, schema: str, pg_host: str = "127.0.0.1"):
    result = ferry(
        "run",
        "api-to-table",
        "--pipelines",
        PIPELINES,
        "-p",
        f"api_address={server.base_url.removeprefix('http://')}",
        "-p",
        f"pg_schema={schema}",
        "-p",
        f"pg_host={pg_host}",
        "--store",
        str(tmp_path / "store"),
        "--output",
        "json",
        cwd=tmp_path,
    )
    record = json.loads(result.stdout)
    return result, {t["name"]: t for t in record["tasks"]}


def _records(*ids: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"n{i}"} for i in ids]


@pytest.mark.slow
def test_401_runs_once_with_exit_2(tmp_path: Path, pg_schema: tuple[str, str]) -> None:
    _, schema = pg_schema
    with serve({"/orders": script(Reply(401, {"error": "bad token"}))}) as server:
        result, tasks = _run(tmp_path, server, schema)
        requests = len(server.received)
    assert result.returncode == 1
    orders = tasks["orders"]
    assert (orders["status"], orders["exit_code"], orders["attempts"]) == ("Failed", 2, 1)
    assert orders["not_retried"] == "bad usage or config"
    assert requests == 1


@pytest.mark.slow
def test_unique_violation_runs_once_with_exit_3(tmp_path: Path, pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    execute(url, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name TEXT)")
    with serve({"/orders": script(Reply(json=_records(1, 2, 1)))}) as server:
        result, tasks = _run(tmp_path, server, schema)
    assert result.returncode == 1
    load = tasks["orders-table"]
    assert (load["status"], load["exit_code"], load["attempts"]) == ("Failed", 3, 1)
    assert load["not_retried"] == "data rejected"
    assert "orders_pkey" in load["reason"]
    assert fetch(url, "SELECT count(*) FROM orders") == [(0,)]


@pytest.mark.slow
def test_unreachable_database_is_retried_with_exit_1(
    tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    _, schema = pg_schema
    with serve({"/orders": script(Reply(json=_records(1)))}) as server:
        # 127.0.0.2 is loopback too, but PostgreSQL does not listen there: refused
        result, tasks = _run(tmp_path, server, schema, pg_host="127.0.0.2")
    assert result.returncode == 1
    load = tasks["orders-table"]
    assert (load["status"], load["exit_code"], load["attempts"]) == ("Failed", 1, 3)
    assert "Connection refused" in load["reason"]
