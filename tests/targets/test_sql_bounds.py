"""Bounded waits: a lock another session holds, a slow statement, the settings sent."""

import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from steps.databases.bounds import Bounds
from steps.databases.postgres.connect import connection_params, session_settings
from steps.databases.url import parse_database_url
from tests.targets.sqlhelp import (
    execute,
    last_error,
    read_artifact,
    run_in_process,
    step_args,
    write_artifact,
)


def _url(request: pytest.FixtureRequest, dialect: str) -> str:
    return str(request.getfixturevalue("pg_url" if dialect == "postgresql" else "mysql_url"))


def _hold_lock(url: str, table: str, locked: threading.Event, release: threading.Event) -> None:
    """Hold an exclusive lock on ``table`` in another session until ``release``."""
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)
            conn.rollback()
        return
    import pymysql

    parts = urlsplit(url)
    conn = pymysql.connect(
        host=parts.hostname, port=parts.port, user="root", password="", database=parts.path[1:]
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLES {table} WRITE")
            locked.set()
            release.wait(30)
            cur.execute("UNLOCK TABLES")
    finally:
        conn.close()


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest.mark.parametrize("mode", ["append", "replace", "upsert"])
def test_a_table_locked_by_another_session_fails_the_load_within_lock_timeout(
    dialect: str,
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _url(request, dialect)
    execute(url, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(20))")
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2], "name": ["a", "b"]}))
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(url, "orders", locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        config: dict[str, Any] = {"url": url, "table": "orders", "mode": mode, "lock_timeout": 1}
        if mode == "upsert":
            config["key"] = ["id"]
        args = step_args(
            "load-sql", "to-db", tmp_path / "store", config, inputs=[f"src={artifact}"]
        )
        started = time.monotonic()
        result = run_in_process(args, capsys)
        took = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert result.returncode == 1, result.stderr
    assert took < 15
    message = last_error(result.stderr)
    assert "loading table 'orders' on " in message
    assert "waited longer than lock_timeout=1s (step config 'lock_timeout'" in message
    assert message.endswith("nothing was committed; the step is retried")


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_a_table_locked_by_another_session_fails_the_extract_within_lock_timeout(
    dialect: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _url(request, dialect)
    execute(url, "CREATE TABLE orders (id BIGINT)", "INSERT INTO orders VALUES (1)")
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(url, "orders", locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        config = {"url": url, "table": "orders", "lock_timeout": 1}
        args = step_args("extract-sql", "orders", tmp_path / "store", config, output=tmp_path / "o")
        started = time.monotonic()
        result = run_in_process(args, capsys)
        took = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert result.returncode == 1, result.stderr
    assert took < 15
    message = last_error(result.stderr)
    assert f"query on {dialect}://" in message
    assert "waited longer than lock_timeout=1s" in message


@pytest.mark.parametrize(
    ("dialect", "query"),
    [("postgresql", "SELECT pg_sleep(5) AS slept"), ("mysql", "SELECT SLEEP(5) AS slept")],
)
def test_a_statement_running_longer_than_statement_timeout_fails_the_extract(
    dialect: str,
    query: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _url(request, dialect)
    config = {"url": url, "query": query, "statement_timeout": 0.5}
    args = step_args("extract-sql", "slow", tmp_path / "store", config, output=tmp_path / "out")
    started = time.monotonic()
    result = run_in_process(args, capsys)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 4
    message = last_error(result.stderr)
    assert f"query on {dialect}://" in message
    assert "ran longer than statement_timeout=0.5s (step config 'statement_timeout')" in message


def test_statement_timeout_zero_means_no_limit(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {"url": pg_url, "query": "SELECT pg_sleep(0.2) AS slept", "statement_timeout": 0}
    args = step_args("extract-sql", "slow", tmp_path / "store", config, output=tmp_path / "out")
    result = run_in_process(args, capsys)
    assert result.returncode == 0, result.stderr
    assert read_artifact(tmp_path / "out")[0].num_rows == 1


def test_postgresql_bounds_are_set_after_connecting_unless_the_url_sets_them() -> None:
    url = parse_database_url(
        "postgresql://u@h/db?options=-csearch_path%3Dsales%20-c%20statement_timeout%3D5&sslmode=off"
    )
    bounds = Bounds(connect_timeout=2.5, lock_timeout=1.5)
    assert session_settings(url, bounds) == ["SET lock_timeout = 1500"]
    assert connection_params(url, bounds) == [
        ("options", "-csearch_path=sales -c statement_timeout=5"),
        ("sslmode", "off"),
        ("connect_timeout", "3"),
    ]
    plain = parse_database_url("postgresql://u@h/db")
    assert session_settings(plain, Bounds()) == [
        "SET lock_timeout = 60000",
        "SET statement_timeout = 21600000",
    ]
    own = parse_database_url("postgresql://u@h/db?connect_timeout=7")
    assert connection_params(own, Bounds()) == [("connect_timeout", "7")]


def test_a_statement_timeout_in_the_url_wins(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_url + "%20-cstatement_timeout%3D0"
    query = "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l"
    config = {"url": url, "query": query, "statement_timeout": 1, "lock_timeout": 2}
    args = step_args("extract-sql", "settings", tmp_path / "store", config, output=tmp_path / "o")
    result = run_in_process(args, capsys)
    assert result.returncode == 0, result.stderr
    assert read_artifact(tmp_path / "o")[0].to_pylist() == [{"s": "0", "l": "2s"}]


def test_an_unreachable_server_fails_within_connect_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 10.255.255.1 is not routed: the connection hangs until the timeout
    for url in ("postgresql://u@10.255.255.1:5432/db", "mysql://u@10.255.255.1:3306/db"):
        config = {"url": url, "table": "orders", "connect_timeout": 1}
        args = step_args("extract-sql", "far", tmp_path / "store", config, output=tmp_path / "o")
        started = time.monotonic()
        result = run_in_process(args, capsys)
        assert result.returncode == 1, result.stderr
        assert time.monotonic() - started < 8, url
        assert "cannot connect to" in last_error(result.stderr)


def test_bounds_render_only_when_set_and_reach_the_step() -> None:
    from steps.extract.sql.config import SqlExtract
    from steps.load.sql_table.config import SqlTableLoad

    plain = SqlExtract(url="postgresql://u@h/db", table="orders")
    assert not {"connect_timeout", "lock_timeout", "statement_timeout"} & set(plain.model_dump())
    assert plain.bounds() == Bounds()
    tight = SqlTableLoad(url="mysql://u@h/db", table="t", lock_timeout=2, statement_timeout=0)
    dumped = tight.model_dump(mode="json")
    assert (dumped["lock_timeout"], dumped["statement_timeout"]) == (2, 0)
    assert "connect_timeout" not in dumped
    again = SqlTableLoad.model_validate(dumped)
    assert again.bounds() == Bounds(lock_timeout=2, statement_timeout=0)
    assert Bounds(statement_timeout=0).describe("statement_timeout") == (
        "statement_timeout=0 (no limit)"
    )
    with pytest.raises(ValueError, match="connect_timeout"):
        SqlExtract(url="postgresql://u@h/db", table="orders", connect_timeout=0)
