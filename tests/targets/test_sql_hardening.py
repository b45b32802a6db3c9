"""load-sql corner cases: long table names, NULL upsert keys, where the ledger lives."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from steps.databases.load_target import NEW_SUFFIX, OLD_SUFFIX, sibling
from tests.targets.sqlhelp import (
    DIALECTS,
    database_url,
    events,
    execute,
    fetch,
    last_error,
    run_in_process,
    step_args,
    write_artifact,
)


def _load(
    tmp_path: Path,
    artifact: str,
    config: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    *,
    run_id: str = "run-1",
):
    args = step_args(
        "load-sql", "to-db", tmp_path / "store", config, run_id=run_id, inputs=[f"src={artifact}"]
    )
    return run_in_process(args, capsys)


def test_sibling_names_fit_the_identifier_limit_and_stay_apart() -> None:
    short = sibling("sales.orders", NEW_SUFFIX, 63)
    assert short == "sales.orders__ferry_new"
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    new_a, new_b = sibling(long_a, NEW_SUFFIX, 63), sibling(long_b, NEW_SUFFIX, 63)
    assert len(new_a.encode()) <= 63 and new_a.endswith(NEW_SUFFIX)
    assert new_a != new_b != long_a
    assert sibling(long_a, OLD_SUFFIX, 63) != new_a
    accented = sibling("é" * 40, NEW_SUFFIX, 63)  # 80 bytes: cut on a character boundary
    assert len(accented.encode()) <= 63
    assert sibling("t" * 100, NEW_SUFFIX, None) == "t" * 100 + NEW_SUFFIX


@pytest.mark.parametrize(("dialect", "length"), [("postgresql", 63), ("mysql", 64)])
def test_replace_of_a_table_with_the_longest_name_works_every_run(
    dialect: str,
    length: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_url(request, dialect, tmp_path)
    # two tables whose names differ only after the part a suffixed name keeps
    names = ["t" * (length - 1) + "1", "t" * (length - 1) + "2"]
    for name in names:
        execute(url, f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, v VARCHAR(10))")
        execute(url, f"INSERT INTO {name} VALUES (0, 'old')")
    for run in range(1, 3):
        for name in names:
            data = pa.table({"id": [run, run + 10], "v": [f"run{run}", name[-1]]})
            artifact = write_artifact(tmp_path / f"a{run}{name[-1]}", data)
            config = {"url": url, "table": name, "mode": "replace"}
            result = _load(tmp_path, artifact, config, capsys, run_id=f"run-{run}")
            assert result.returncode == 0, result.stderr
            assert sorted(fetch(url, f"SELECT id, v FROM {name}")) == [
                (run, f"run{run}"),
                (run + 10, name[-1]),
            ]


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, request.param, tmp_path)


def test_upsert_refuses_null_keys_naming_the_column_and_the_count(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        db,
        "CREATE TABLE accounts (region VARCHAR(10), code INTEGER, name VARCHAR(20))",
        "CREATE UNIQUE INDEX accounts_key ON accounts (region, code)",
        "INSERT INTO accounts VALUES ('eu', 1, 'before')",
    )
    data = pa.table(
        {
            "region": ["eu", None, "us", None],
            "code": pa.array([1, 2, None, 4], pa.int64()),
            "name": ["a", "b", "c", "d"],
        }
    )
    artifact = write_artifact(tmp_path / "a1", data)
    config = {"url": db, "table": "accounts", "mode": "upsert", "key": ["region", "code"]}
    for _ in range(2):  # the same every run: nothing is inserted
        result = _load(tmp_path, artifact, config, capsys)
        assert result.returncode == 3, result.stderr
        assert last_error(result.stderr).endswith(
            "upsert into table 'accounts': key column 'region' is NULL in 2 row(s), "
            "'code' is NULL in 1 row(s); a NULL key matches no row, so every run would insert "
            "such rows again; fill the key or filter those rows upstream (nothing was loaded)"
        )
        assert fetch(db, "SELECT region, code, name FROM accounts") == [("eu", 1, "before")]


def test_upsert_without_null_keys_still_loads(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        db,
        "CREATE TABLE accounts (code INTEGER, name VARCHAR(20))",
        "CREATE UNIQUE INDEX accounts_key ON accounts (code)",
        "INSERT INTO accounts VALUES (1, 'before')",
    )
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"code": pa.array([1, 2], pa.int64()), "name": [None, "b"]})
    )
    config = {"url": db, "table": "accounts", "mode": "upsert", "key": ["code"]}
    result = _load(tmp_path, artifact, config, capsys)
    assert result.returncode == 0, result.stderr
    assert sorted(fetch(db, "SELECT code, name FROM accounts")) == [(1, None), (2, "b")]


@pytest.fixture
def other_schema(pg_url: str) -> Iterator[str]:
    name = f"o_{uuid.uuid4().hex[:10]}"
    execute(pg_url, f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        execute(pg_url, f"DROP SCHEMA {name} CASCADE")


def _tables(url: str, schema: str) -> set[str]:
    rows = fetch(url, f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'")
    return {str(r[0]) for r in rows}


def _url_schema(pg_url: str) -> str:
    return pg_url.rsplit("%3D", 1)[1]


def test_postgres_ledger_lives_in_the_schema_of_the_target(
    pg_url: str, other_schema: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"{other_schema}.orders"
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2]}))
    # a user who may create tables in the target's schema only (not in the URL's, not in public)
    role = f"r_{uuid.uuid4().hex[:10]}"
    execute(
        pg_url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA {_url_schema(pg_url)} TO {role}",
        f"GRANT USAGE, CREATE ON SCHEMA {other_schema} TO {role}",
    )
    url = pg_url.replace("postgres@", f"{role}@")
    try:
        result = _load(tmp_path, artifact, {"url": url, "table": target}, capsys)
        assert result.returncode == 0, result.stderr
        assert _tables(pg_url, other_schema) == {"orders", "_ferry_loads"}
        assert "_ferry_loads" not in _tables(pg_url, _url_schema(pg_url))
        ledger = f"SELECT target_table, rows FROM {other_schema}._ferry_loads"
        assert fetch(pg_url, ledger) == [(target, 2)]
        again = _load(tmp_path, artifact, {"url": url, "table": target}, capsys)
        assert again.returncode == 0, again.stderr
        assert events(again.stdout, "already_loaded")
        assert fetch(pg_url, f"SELECT count(*) FROM {target}") == [(2,)]
    finally:
        execute(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_load_recorded_in_the_old_unqualified_ledger_still_counts(
    pg_url: str, other_schema: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"{other_schema}.orders"
    execute(
        pg_url,
        f"CREATE TABLE {target} (id bigint)",
        f"INSERT INTO {target} VALUES (1), (2)",
        "CREATE TABLE _ferry_loads (pipeline text NOT NULL, step text NOT NULL, run_id text "
        "NOT NULL, target_table text NOT NULL, rows bigint NOT NULL, loaded_at timestamptz "
        "NOT NULL, PRIMARY KEY (pipeline, step, run_id, target_table))",
        f"INSERT INTO _ferry_loads VALUES ('demo', 'to-db', 'run-1', '{target}', 2, now())",
    )
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2]}))
    result = _load(tmp_path, artifact, {"url": pg_url, "table": target}, capsys)
    assert result.returncode == 0, result.stderr
    assert events(result.stdout, "already_loaded")[0]["rows"] == 2
    assert fetch(pg_url, f"SELECT count(*) FROM {target}") == [(2,)]
    # a new run is recorded next to the target only
    result = _load(tmp_path, artifact, {"url": pg_url, "table": target}, capsys, run_id="run-2")
    assert result.returncode == 0, result.stderr
    assert fetch(pg_url, f"SELECT run_id FROM {other_schema}._ferry_loads") == [("run-2",)]
    assert fetch(pg_url, "SELECT run_id FROM _ferry_loads") == [("run-1",)]


def test_mariadb_ledger_lives_in_the_database_of_the_target(
    mysql_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = f"o_{uuid.uuid4().hex[:10]}"
    execute(mysql_url, f"CREATE DATABASE {other}")
    try:
        artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2]}))
        result = _load(tmp_path, artifact, {"url": mysql_url, "table": f"{other}.orders"}, capsys)
        assert result.returncode == 0, result.stderr
        assert fetch(mysql_url, f"SELECT target_table, `rows` FROM {other}._ferry_loads") == [
            (f"{other}.orders", 2)
        ]
        assert fetch(mysql_url, "SHOW TABLES LIKE '_ferry_loads'") == []
    finally:
        execute(mysql_url, f"DROP DATABASE {other}")


def test_sqlite_ledger_of_an_attached_schema_and_the_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """main.orders (the only schema a sqlite:// URL names) keeps its ledger in main."""
    url = f"sqlite://{tmp_path / 'x.db'}"
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2]}))
    result = _load(tmp_path, artifact, {"url": url, "table": "main.orders"}, capsys)
    assert result.returncode == 0, result.stderr
    assert fetch(url, 'SELECT target_table, "rows" FROM main._ferry_loads') == [("main.orders", 2)]
    again = _load(tmp_path, artifact, {"url": url, "table": "main.orders"}, capsys)
    assert events(again.stdout, "already_loaded")
    assert fetch(url, "SELECT count(*) FROM orders") == [(2,)]
