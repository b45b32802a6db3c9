"""extract-sql against real PostgreSQL and MariaDB databases and a SQLite file."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_step
from tests.targets.sqlhelp import (
    DIALECTS,
    StepRun,
    database_url,
    events,
    execute,
    last_error,
    read_artifact,
    run_in_process,
    step_args,
)

ORDERS = [
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, name VARCHAR(20), amount DOUBLE PRECISION, "
    "updated INTEGER)",
    "INSERT INTO orders VALUES (1, 'a', 1.5, 10), (2, 'b''s', 2.5, 20), (3, NULL, 3.5, 30), "
    "(4, 'd', NULL, 40), (5, 'e', 5.5, 50), (6, 'f', 6.5, 60), (7, 'g', 7.5, 70)",
]


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = database_url(request, request.param, tmp_path)
    execute(url, *ORDERS)
    return url


def extract_here(tmp_path: Path, config: dict, capsys: pytest.CaptureFixture[str]) -> StepRun:
    """Run the extract in this process: for failures that need no database work."""
    out = tmp_path / "artifacts" / "run-1" / "orders"
    args = step_args("extract-sql", "orders", tmp_path / "store", config, output=out)
    return run_in_process(args, capsys)


def extract(tmp_path: Path, config: dict, *, step: str = "orders", run_id: str = "run-1", env=None):
    out = tmp_path / "artifacts" / run_id / step
    args = step_args("extract-sql", step, tmp_path / "store", config, run_id=run_id, output=out)
    result = run_step(*args, env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), **(env or {})})
    return result, out


def test_extract_table_streams_in_batches(db: str, tmp_path: Path) -> None:
    result, out = extract(tmp_path, {"url": db, "table": "orders", "batch_size": 3})
    assert result.returncode == 0, result.stderr
    table, manifest = read_artifact(out)
    assert sorted(table.column("id").to_pylist()) == [1, 2, 3, 4, 5, 6, 7]
    assert "b's" in table.column("name").to_pylist()
    assert [e["rows"] for e in events(result.stdout, "batch_extracted")] == [3, 3, 1]
    assert manifest["rows"]["data"] == 7
    assert "cursor" not in manifest
    assert (tmp_path / "outputs" / "rows_out").read_text() == "7"


def test_extract_query_with_declared_columns(db: str, tmp_path: Path) -> None:
    config = {
        "url": db,
        "query": "SELECT id, name FROM orders WHERE id <= 2",
        "columns": {"id": "int32", "name": "string"},
    }
    result, out = extract(tmp_path, config)
    assert result.returncode == 0, result.stderr
    table, _ = read_artifact(out)
    assert str(table.schema.field("id").type) == "int32"
    assert sorted(table.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b's"},
    ]


def test_incremental_windows_follow_the_state(db: str, tmp_path: Path) -> None:
    cursor = {"field": "updated", "initial_value": 20, "end_value": 60}
    config = {"url": db, "table": "orders", "cursor": cursor}
    result, out = extract(tmp_path, config)
    assert result.returncode == 0, result.stderr
    table, manifest = read_artifact(out)
    assert sorted(table.column("updated").to_pylist()) == [20, 30, 40, 50]
    assert (manifest["cursor"]["field"], manifest["cursor"]["value"]) == ("updated", 50)
    assert manifest["cursor"]["kind"] == "int" and manifest["cursor"]["keys_count"] == 1

    commit = step_args(
        "commit-state",
        "commit-state",
        tmp_path / "store",
        {"sources": ["orders"]},
        inputs=[f"orders={out}"],
    )
    assert run_step(*commit).returncode == 0
    state = json.loads((tmp_path / "store" / "state" / "demo" / "orders.json").read_text())
    assert (state["source"], state["field"], state["value"], state["run_id"]) == (
        "orders",
        "updated",
        50,
        "run-1",
    )

    assert state["keys_count"] == 1

    open_end = {"url": db, "table": "orders", "cursor": {"field": "updated", "initial_value": 20}}
    result, out = extract(tmp_path, open_end, run_id="run-2")
    assert result.returncode == 0, result.stderr
    table, manifest = read_artifact(out)
    # the bound is inclusive (>= 50); row 5, delivered by run-1, is dropped by its digest
    assert sorted(table.column("updated").to_pylist()) == [60, 70]
    assert manifest["cursor"]["value"] == 70
    assert events(result.stdout, "cursor_boundary_duplicates")[0]["rows"] == 1
    assert (tmp_path / "outputs" / "rows_in").read_text() == "2"


def test_state_without_keys_rereads_its_boundary_once_then_keeps_the_mark(
    db: str, tmp_path: Path
) -> None:
    """A state file from before format 2 has no digests: its mark's rows come once more."""
    state = tmp_path / "store" / "state" / "demo" / "orders.json"
    state.parent.mkdir(parents=True)
    state.write_text(
        json.dumps(
            {
                "source": "orders",
                "field": "updated",
                "value": 70,
                "run_id": "run-0",
                "updated_at": "2024-01-01T00:00:00+00:00",
            }
        )
    )
    config = {"url": db, "query": "SELECT id, updated FROM orders", "cursor": {"field": "updated"}}
    result, out = extract(tmp_path, config)
    assert result.returncode == 0, result.stderr
    table, manifest = read_artifact(out)
    assert table.to_pylist() == [{"id": 7, "updated": 70}]
    assert manifest["cursor"]["value"] == 70
    commit = step_args(
        "commit-state", "commit-state", tmp_path / "store", {"sources": ["orders"]},
        inputs=[f"orders={out}"],
    )  # fmt: skip
    assert run_step(*commit).returncode == 0

    result, out = extract(tmp_path, config, run_id="run-2")
    assert result.returncode == 0, result.stderr
    table, manifest = read_artifact(out)
    assert table.num_rows == 0
    assert table.schema.names == ["id", "updated"]
    assert manifest["cursor"]["value"] == 70
    assert events(result.stdout, "cursor_boundary_duplicates")[0]["rows"] == 1


def test_state_of_another_field_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(url, *ORDERS)
    state = tmp_path / "store" / "state" / "demo" / "orders.json"
    state.parent.mkdir(parents=True)
    state.write_text(
        json.dumps(
            {
                "source": "orders",
                "field": "id",
                "value": 1,
                "run_id": "r",
                "updated_at": "2024-01-01T00:00:00+00:00",
            }
        )
    )
    result = extract_here(
        tmp_path, {"url": url, "table": "orders", "cursor": {"field": "updated"}}, capsys
    )
    assert result.returncode == 1
    assert last_error(result.stderr) == (
        f"ferry: pipeline 'demo', step 'orders': state file {state} tracks field 'id' but source "
        "'orders' now uses cursor field 'updated'; delete the file to restart from "
        "cursor.initial_value"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"url": "postgresql://u@h/db", "table": "t", "query": "select 1"},
            "invalid extract-sql config at (config): Value error, give exactly one of table and "
            "query",
        ),
        (
            {"url": "postgresql://u:secret@h/db", "table": "t"},
            "invalid extract-sql config at url: Value error, the database URL contains a password; "
            "remove it and name the environment variable that holds it in password_env",
        ),
        (
            {"url": "oracle://h/db", "table": "t"},
            "invalid extract-sql config at url: Value error, unsupported database URL scheme in "
            "'oracle'; use postgresql://user@host:port/db, mysql://user@host:port/db or "
            "sqlite:///path/file.db",
        ),
        (
            {
                "url": "postgresql://u@h/db",
                "table": "t",
                "password_secret": {"name": "s", "key": "k"},
            },
            "invalid extract-sql config at (config): Value error, password_secret needs "
            "password_env: the variable name the secret is exposed as",
        ),
    ],
)
def test_bad_config_exits_2(
    tmp_path: Path, config: dict, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = extract_here(tmp_path, config, capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == f"ferry: pipeline 'demo', step 'orders': {message}"


def test_missing_password_variable_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        "url": "postgresql://app@127.0.0.1/test",
        "table": "t",
        "password_env": "NO_SUCH_PW_VAR",
    }
    result = extract_here(tmp_path, config, capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'orders': environment variable NO_SUCH_PW_VAR (password_env) "
        "is not set; set it to the password for postgresql://app@127.0.0.1:5432/test"
    )


def test_wrong_password_names_url_without_password(pg_url: str, tmp_path: Path) -> None:
    url = "postgresql://nosuchuser@127.0.0.1:5432/test"
    config = {"url": url, "table": "t", "password_env": "PW"}
    result, _ = extract(tmp_path, config, env={"PW": "hunter2"})
    assert result.returncode == 2
    line = last_error(result.stderr)
    assert line.startswith(
        "ferry: pipeline 'demo', step 'orders': cannot connect to "
        "postgresql://nosuchuser@127.0.0.1:5432/test: "
    )
    assert "hunter2" not in result.stderr + result.stdout


def test_unknown_table_fails_with_exit_2(db: str, tmp_path: Path) -> None:
    result, out = extract(tmp_path, {"url": db, "table": "nope"})
    assert result.returncode == 2
    line = last_error(result.stderr)
    assert line.startswith("ferry: pipeline 'demo', step 'orders': query on ")
    assert line.endswith("; check the table or query; not retried")
    assert "nope" in line
    assert not (out / "_manifest.json").exists()


def test_cursor_field_missing_from_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(url, *ORDERS)
    config = {"url": url, "query": "SELECT id FROM orders", "cursor": {"field": "updated"}}
    result = extract_here(tmp_path, config, capsys)
    assert result.returncode == 3
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'orders': cursor field 'updated' is not a column of the "
        "result (columns: id); fix cursor.field or the query"
    )


def test_password_secret_renders_as_secret_env() -> None:
    from steps.extract.sql.config import SqlExtract

    config = SqlExtract.model_validate(
        {
            "url": "mysql://etl@db:3306/shop",
            "table": "orders",
            "password_env": "SHOP_DB_PASSWORD",
            "password_secret": {"name": "shop-db", "key": "password"},
            "columns": {"id": "int64"},
        }
    )
    assert [e.model_dump() for e in config.secret_envs()] == [
        {"env": "SHOP_DB_PASSWORD", "secret_name": "shop-db", "secret_key": "password"}
    ]
    assert config.declared_columns() == ["id"]
    assert config.database_url().redacted() == "mysql://etl@db:3306/shop"


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            {"id": "int64", "code": "string"},
            "result columns differ from the declared columns: missing ['code'], unexpected "
            "['name']; fix `columns` or the table/query",
        ),
        (
            {"id": "int64", "name": "int64"},
            "column 'name' (string) cannot be cast to the declared type int64: Failed to parse "
            "string: 'a' as a scalar of type int64; fix `columns` or cast in the query",
        ),
    ],
)
def test_result_that_does_not_fit_the_declared_columns_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], columns: dict[str, str], message: str
) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(url, *ORDERS)
    config = {"url": url, "query": "SELECT id, name FROM orders WHERE id = 1", "columns": columns}
    result = extract_here(tmp_path, config, capsys)
    assert result.returncode == 3
    assert last_error(result.stderr) == f"ferry: pipeline 'demo', step 'orders': {message}"


@pytest.mark.parametrize(
    "value", ["b's", "b\\'s' OR '1'='1", "x' OR 1=1 -- ", "\\", "a\nb' UNION SELECT 1,2,3,4 --"]
)
def test_a_parameter_in_the_query_is_one_literal_of_the_dialect(
    db: str, tmp_path: Path, value: str
) -> None:
    """No value changes the statement: it is compared as text, quoted as the dialect needs."""
    config = {"url": db, "query": "SELECT id, name FROM orders WHERE name = ${param:who}"}
    result, out = extract(tmp_path, config, env={"FERRY_PARAM_who": value})
    assert result.returncode == 0, result.stderr
    table, _ = read_artifact(out)
    assert table.to_pylist() == ([{"id": 2, "name": "b's"}] if value == "b's" else [])
