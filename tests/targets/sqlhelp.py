"""Helpers shared by the SQL source, target and state tests: talk to each test database."""

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location

DIALECTS = ["postgresql", "mysql", "sqlite"]


def database_url(request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> str:
    """A URL to an empty database of ``dialect`` owned by this test."""
    if dialect == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    if dialect == "mysql":
        return str(request.getfixturevalue("mysql_url"))
    return f"sqlite://{tmp_path / 'test.db'}"


def _connect(url: str) -> Any:
    if url.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(url, autocommit=True)
    if url.startswith("mysql://"):
        import pymysql

        parts = urlsplit(url)
        return pymysql.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username,
            password="",
            database=parts.path.lstrip("/"),
            autocommit=True,
        )
    return sqlite3.connect(url[len("sqlite://") :], isolation_level=None)


def execute(url: str, *statements: str) -> None:
    """Run statements in autocommit mode."""
    conn = _connect(url)
    try:
        cur = conn.cursor()
        for sql in statements:
            cur.execute(sql)
    finally:
        conn.close()


def fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a query, as tuples."""
    conn = _connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def write_artifact(
    path: Path, table: pa.Table, *, step: str = "src", run_id: str = "run-1", **extra: Any
) -> str:
    """Commit ``table`` as a step artifact at ``path``; return its URI."""
    writer = ArtifactWriter(open_location(str(path)), pipeline="demo", step=step, run_id=run_id)
    for batch in table.to_batches():
        writer.write(batch)
    writer.commit(schema=table.schema, **extra)
    return str(path)


def read_artifact(path: Path) -> tuple[pa.Table, dict[str, Any]]:
    """The rows and the manifest of a committed artifact."""
    reader = ArtifactReader(open_location(str(path)), "x")
    return reader.dataset().to_table(), reader.manifest


def events(stdout: str, name: str) -> list[dict[str, Any]]:
    """The JSON log events called ``name``."""
    lines = (json.loads(line) for line in stdout.splitlines() if line.startswith("{"))
    return [e for e in lines if e["event"] == name]


def last_error(stderr: str) -> str:
    """The one-line failure message a step prints last."""
    return stderr.strip().splitlines()[-1]


def step_args(
    kind: str,
    step: str,
    store: Path,
    config: dict[str, Any],
    *,
    run_id: str = "run-1",
    inputs: Sequence[str] = (),
    output: Path | None = None,
) -> list[str]:
    """The ``python -m steps`` arguments of one step of pipeline ``demo``."""
    args = [
        kind,
        "--pipeline",
        "demo",
        "--step",
        step,
        "--run-id",
        run_id,
        "--store",
        str(store),
        "--config",
        json.dumps(config),
    ]
    for item in inputs:
        args += ["--input", item]
    if output is not None:
        args += ["--output", str(output)]
    return args


def ledger(url: str) -> list[tuple[Any, ...]]:
    """The load ledger's (pipeline, step, run_id, target_table, rows); [] before it exists."""
    try:
        return sorted(
            fetch(url, 'SELECT pipeline, step, run_id, target_table, "rows" FROM _ferry_loads')
            if not url.startswith("mysql")
            else fetch(url, "SELECT pipeline, step, run_id, target_table, `rows` FROM _ferry_loads")
        )
    except Exception as err:  # only a missing ledger table means "no loads"
        if "exist" in str(err) or "no such table" in str(err):
            return []
        raise


@dataclass
class StepRun:
    """Exit code and output of a step run in this process."""

    returncode: int
    stdout: str
    stderr: str


def run_in_process(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> StepRun:
    """Run ``python -m steps ARGS`` through the same harness, in this process (fast)."""
    from steps.runtime.harness import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return StepRun(code, out, err)
