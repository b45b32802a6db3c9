"""Database errors, classified: what is not retried (exit 2, 3) and what is (exit 1).

Every fault is produced on the real PostgreSQL and MariaDB servers: constraint
violations, bad credentials, unknown databases and tables through the step; lock
timeouts and deadlocks as driver exceptions classified by each dialect's errors.py.
"""

import socket
import threading
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pymysql
import pytest

from steps.databases.errors import DatabaseFault
from steps.databases.mysql.errors import classify as classify_mysql
from steps.databases.postgres.errors import classify as classify_postgres
from steps.databases.registry import DIALECTS, SCHEMES, dialect
from steps.databases.sqlite.errors import classify as classify_sqlite
from tests.conftest import run_step
from tests.targets.sqlhelp import (
    execute,
    fetch,
    last_error,
    ledger,
    step_args,
    write_artifact,
)

PREFIX = "ferry: pipeline 'demo', step 'to-db': "


def _load(tmp_path: Path, artifact: str, config: dict[str, Any], env: dict[str, str] | None = None):
    args = step_args("load-sql", "to-db", tmp_path / "store", config, inputs=[f"src={artifact}"])
    return run_step(*args, env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), **(env or {})})


def _extract(tmp_path: Path, config: dict[str, Any], env: dict[str, str] | None = None):
    out = tmp_path / "out"
    args = step_args("extract-sql", "to-db", tmp_path / "store", config, output=out)
    return run_step(*args, env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), **(env or {})})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_url(request: pytest.FixtureRequest, dialect_name: str) -> str:
    return str(request.getfixturevalue("pg_url" if dialect_name == "postgresql" else "mysql_url"))


# --- data errors: exit 3 ------------------------------------------------------------------


@pytest.mark.parametrize("dialect_name", ["postgresql", "mysql"])
def test_unique_violation_exits_3_and_commits_nothing(
    dialect_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _server_url(request, dialect_name)
    execute(
        url,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO orders VALUES (1, 'a')",
    )
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [2, 1], "name": ["b", "c"]}))
    result = _load(tmp_path, artifact, {"url": url, "table": "orders"})
    assert result.returncode == 3, result.stderr
    line = last_error(result.stderr)
    assert line.startswith(f"{PREFIX}loading table 'orders' on ")
    if dialect_name == "postgresql":
        assert 'duplicate key value violates unique constraint "orders_pkey"' in line
        assert "(SQLSTATE 23505, table 'orders', constraint 'orders_pkey')" in line
    else:
        assert "Duplicate entry '1' for key 'PRIMARY' (error 1062)" in line
    assert line.endswith(
        "; fix the rows upstream or the table's constraints; nothing was committed, not retried"
    )
    assert fetch(url, "SELECT id, name FROM orders") == [(1, "a")]
    assert ledger(url) == []


@pytest.mark.parametrize("dialect_name", ["postgresql", "mysql"])
def test_not_null_violation_names_the_column(
    dialect_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _server_url(request, dialect_name)
    execute(url, "CREATE TABLE orders (id INTEGER, name VARCHAR(20) NOT NULL)")
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"id": [1, 2], "name": pa.array(["a", None], pa.string())})
    )
    result = _load(tmp_path, artifact, {"url": url, "table": "orders"})
    assert result.returncode == 3, result.stderr
    line = last_error(result.stderr)
    if dialect_name == "postgresql":
        assert "(SQLSTATE 23502, table 'orders', column 'name')" in line
    else:
        assert "Column 'name' cannot be null (error 1048)" in line
    assert fetch(url, "SELECT count(*) FROM orders") == [(0,)]


def test_nan_into_mariadb_exits_3_naming_row_and_column(mysql_url: str, tmp_path: Path) -> None:
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"id": [1, 2, 3], "x": [1.5, float("nan"), float("inf")]})
    )
    result = _load(tmp_path, artifact, {"url": mysql_url, "table": "measures"})
    assert result.returncode == 3, result.stderr
    assert last_error(result.stderr) == (
        f"{PREFIX}row 2 does not fit table 'measures': column 'x' cannot take nan "
        "(MariaDB/MySQL store no NaN or infinity); fix the value upstream or make it null "
        "(nothing was loaded)"
    )
    assert fetch(mysql_url, "SELECT count(*) FROM measures") == [(0,)]


def test_check_constraint_on_mariadb_exits_3(mysql_url: str, tmp_path: Path) -> None:
    execute(mysql_url, "CREATE TABLE amounts (id INT, amount INT CHECK (amount >= 0))")
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1], "amount": [-5]}))
    result = _load(tmp_path, artifact, {"url": mysql_url, "table": "amounts"})
    assert result.returncode == 3, result.stderr
    assert "(error 4025)" in last_error(result.stderr)


def test_division_by_zero_in_a_postgres_query_exits_3(pg_url: str, tmp_path: Path) -> None:
    result = _extract(tmp_path, {"url": pg_url, "query": "SELECT 1 / 0 AS x"})
    assert result.returncode == 3, result.stderr
    line = last_error(result.stderr)
    assert "division by zero" in line and "SQLSTATE: 22012" in line
    assert line.endswith("; fix the query or the rows it reads; not retried")


# --- usage errors: exit 2 -----------------------------------------------------------------


def test_wrong_mariadb_password_exits_2(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("mysql_url")  # skips without MariaDB
    url = "mysql://root@127.0.0.1:3306/test"
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    config = {"url": url, "table": "t", "password_env": "PW"}
    result = _load(tmp_path, artifact, config, env={"PW": "not-the-password"})
    assert result.returncode == 2, result.stderr
    line = last_error(result.stderr)
    assert line.startswith(f"{PREFIX}cannot connect to mysql://root@127.0.0.1:3306/test: Access")
    assert "(error 1045)" in line and "not-the-password" not in result.stderr + result.stdout


def test_unknown_postgres_role_exits_2(pg_url: str, tmp_path: Path) -> None:
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    url = "postgresql://no_such_role@127.0.0.1:5432/test"
    result = _load(tmp_path, artifact, {"url": url, "table": "t"})
    assert result.returncode == 2, result.stderr
    assert 'role "no_such_role" does not exist' in last_error(result.stderr)


@pytest.mark.parametrize("dialect_name", ["postgresql", "mysql"])
def test_unknown_database_exits_2(
    dialect_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    request.getfixturevalue("pg_url" if dialect_name == "postgresql" else "mysql_url")
    url = {
        "postgresql": "postgresql://postgres@127.0.0.1:5432/no_such_db",
        "mysql": "mysql://root@127.0.0.1:3306/no_such_db",
    }[dialect_name]
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    result = _load(tmp_path, artifact, {"url": url, "table": "t"})
    assert result.returncode == 2, result.stderr
    line = last_error(result.stderr)
    assert line.startswith(f"{PREFIX}cannot connect to {url}: ")
    assert "no_such_db" in line and line.endswith("user's privileges; not retried")


@pytest.mark.parametrize("dialect_name", ["postgresql", "mysql", "sqlite"])
def test_missing_table_and_bad_sql_exit_2(
    dialect_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if dialect_name == "sqlite":
        url = f"sqlite://{tmp_path / 'x.db'}"
    else:
        url = _server_url(request, dialect_name)
    missing = _extract(tmp_path, {"url": url, "table": "no_such_table"})
    assert missing.returncode == 2, missing.stderr
    assert "no_such_table" in last_error(missing.stderr)
    syntax = _extract(tmp_path, {"url": url, "query": "SELEC 1"})
    assert syntax.returncode == 2, syntax.stderr
    assert last_error(syntax.stderr).endswith("; check the table or query; not retried")


def test_sqlite_unique_violation_exits_3(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(url, "CREATE TABLE orders (id INTEGER PRIMARY KEY)", "INSERT INTO orders VALUES (1)")
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    result = _load(tmp_path, artifact, {"url": url, "table": "orders"})
    assert result.returncode == 3, result.stderr
    assert "UNIQUE constraint failed: orders.id" in last_error(result.stderr)


# --- transient errors: exit 1 -------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_connection_refused_exits_1(scheme: str, tmp_path: Path) -> None:
    url = f"{scheme}://u@127.0.0.1:{_closed_port()}/db"
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    result = _load(tmp_path, artifact, {"url": url, "table": "t"})
    assert result.returncode == 1, result.stderr
    line = last_error(result.stderr)
    assert line.startswith(f"{PREFIX}cannot connect to {url}: ")
    assert "refused" in line and line.endswith("; the step is retried")


def _classified(err: BaseException, kind: str, fault: DatabaseFault | None) -> None:
    assert fault is not None, err
    assert fault.kind == kind, (err, fault)


def test_postgres_lock_timeout_and_deadlock_are_transient(pg_url: str) -> None:
    execute(pg_url, "CREATE TABLE locked (id INTEGER PRIMARY KEY)", "INSERT INTO locked VALUES (1)")
    execute(pg_url, "INSERT INTO locked VALUES (2)")
    holder = psycopg.connect(pg_url)
    waiter = psycopg.connect(pg_url)
    try:
        holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.Error) as timeout:
            waiter.execute("SELECT * FROM locked")
        assert timeout.value.sqlstate == "55P03"
        _classified(timeout.value, "transient", classify_postgres(timeout.value))
        holder.rollback()
        waiter.rollback()

        waiter.execute("SET statement_timeout = '100ms'")
        holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(psycopg.Error) as cancelled:
            waiter.execute("SELECT * FROM locked")
        assert cancelled.value.sqlstate == "57014"
        _classified(cancelled.value, "transient", classify_postgres(cancelled.value))
        holder.rollback()
        waiter.rollback()

        errors = _deadlock(
            lambda: psycopg.connect(pg_url),
            "UPDATE locked SET id = id WHERE id = {}",
            psycopg.Error,
        )
        assert [e.sqlstate for e in errors] == ["40P01"]
        _classified(errors[0], "transient", classify_postgres(errors[0]))
    finally:
        holder.close()
        waiter.close()


def _mysql(url: str) -> Any:
    database = url.rsplit("/", 1)[1]
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=database)


def test_mariadb_lock_wait_timeout_and_deadlock_are_transient(mysql_url: str) -> None:
    execute(
        mysql_url,
        "CREATE TABLE locked (id INT PRIMARY KEY, n INT) ENGINE=InnoDB",
        "INSERT INTO locked VALUES (1, 0), (2, 0)",
    )
    holder, waiter = _mysql(mysql_url), _mysql(mysql_url)
    try:
        holder.cursor().execute("SELECT * FROM locked WHERE id = 1 FOR UPDATE")
        waiter.cursor().execute("SET SESSION innodb_lock_wait_timeout = 1")
        with pytest.raises(pymysql.Error) as timeout:
            waiter.cursor().execute("UPDATE locked SET n = 1 WHERE id = 1")
        assert timeout.value.args[0] == 1205
        _classified(timeout.value, "transient", classify_mysql(timeout.value))
        holder.rollback()
        waiter.rollback()
    finally:
        holder.close()
        waiter.close()
    errors = _deadlock(
        lambda: _mysql(mysql_url), "UPDATE locked SET n = n + 1 WHERE id = {}", pymysql.Error
    )
    assert [e.args[0] for e in errors] == [1213]
    _classified(errors[0], "transient", classify_mysql(errors[0]))


def _deadlock(connect: Any, update: str, error: type[Exception]) -> list[Exception]:
    """Two sessions update rows 1 and 2 in opposite order; the server kills one of them."""
    first, second = connect(), connect()
    errors: list[Exception] = []
    both_hold_one = threading.Barrier(2)

    def session(conn: Any, mine: int, theirs: int) -> None:
        try:
            cur = conn.cursor()
            cur.execute(update.format(mine))
            both_hold_one.wait()
            cur.execute(update.format(theirs))
        except error as err:
            errors.append(err)
        finally:
            conn.rollback()

    threads = [
        threading.Thread(target=session, args=(first, 1, 2)),
        threading.Thread(target=session, args=(second, 2, 1)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        first.close()
        second.close()
    return errors


def test_classification_of_driver_errors_by_code(tmp_path: Path) -> None:
    codes = {
        "usage": [1044, 1045, 1049, 1054, 1064, 1146],
        "data": [1048, 1062, 1264, 1292, 1366, 1406, 1452, 3819, 4025],
        "transient": [1205, 1213, 2002, 2003, 2006, 2013, 1040],
    }
    for kind, numbers in codes.items():
        for number in numbers:
            fault = classify_mysql(pymysql.err.OperationalError(number, "x"))
            assert fault is not None and fault.kind == kind, number
    assert classify_mysql(ValueError("not a driver error")) is None
    assert classify_postgres(ValueError("not a driver error")) is None
    assert classify_sqlite(ValueError("not a driver error")) is None


def test_registry_is_keyed_by_url_scheme() -> None:
    assert {s: i.name for s, i in SCHEMES.items()} == {
        "postgresql": "postgresql",
        "postgres": "postgresql",
        "mysql": "mysql",
        "mariadb": "mysql",
        "sqlite": "sqlite",
    }
    for name in DIALECTS:
        assert dialect(name).name == name
    assert dialect("mysql").quote_part("a`b") == "`a``b`"
    assert dialect("postgresql").quote_part('a"b') == '"a""b"'
