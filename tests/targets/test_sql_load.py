"""load-sql against real PostgreSQL and MariaDB databases and a SQLite file."""

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import run_step
from tests.targets.sqlhelp import (
    DIALECTS,
    StepRun,
    database_url,
    events,
    execute,
    fetch,
    last_error,
    ledger,
    run_in_process,
    step_args,
    write_artifact,
)


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, request.param, tmp_path)


def load(
    tmp_path: Path,
    artifact: str,
    config: dict[str, Any],
    *,
    run_id: str = "run-1",
    step: str = "to-db",
):
    args = step_args(
        "load-sql", step, tmp_path / "store", config, run_id=run_id, inputs=[f"src={artifact}"]
    )
    return run_step(*args, env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")})


def load_here(
    tmp_path: Path, artifact: str, config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> StepRun:
    """Run the load in this process: for failures found before any data moves."""
    args = step_args("load-sql", "to-db", tmp_path / "store", config, inputs=[f"src={artifact}"])
    return run_in_process(args, capsys)


def orders(ids: list[int], tag: str = "v1") -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "name": [f"{tag}-{i}" if i % 3 else f"{tag}'\\{i}" for i in ids],
            "amount": [i * 1.5 for i in ids],
            "ok": [i % 2 == 0 for i in ids],
            "day": [dt.date(2024, 1, 1 + i % 28) for i in ids],
            "ts": [dt.datetime(2024, 1, 1, 10, 0, 0, i) for i in ids],
        }
    )


def rows(url: str, table: str = "orders") -> list[tuple]:
    return sorted(fetch(url, f"SELECT id, name FROM {table}"))


def test_append_creates_table_and_a_retry_is_a_no_op(db: str, tmp_path: Path) -> None:
    artifact = write_artifact(tmp_path / "a1", orders([1, 2, 3, 4, 5]))
    config = {"url": db, "table": "orders", "batch_size": 2}
    result = load(tmp_path, artifact, config)
    assert result.returncode == 0, result.stderr
    assert rows(db) == [(i, f"v1-{i}" if i % 3 else f"v1'\\{i}") for i in [1, 2, 3, 4, 5]]
    assert [e["rows"] for e in events(result.stdout, "batch_sent")] == [2, 2, 1]
    assert (tmp_path / "outputs" / "rows_out").read_text() == "5"

    again = load(tmp_path, artifact, config)
    assert again.returncode == 0, again.stderr
    assert events(again.stdout, "already_loaded")[0]["rows"] == 5
    assert len(rows(db)) == 5
    assert ledger(db) == [("demo", "to-db", "run-1", "orders", 5)]

    next_run = load(tmp_path, artifact, config, run_id="run-2")
    assert next_run.returncode == 0, next_run.stderr
    assert len(rows(db)) == 10


def test_values_round_trip(db: str, tmp_path: Path) -> None:
    artifact = write_artifact(tmp_path / "a1", orders([1, 2]))
    assert load(tmp_path, artifact, {"url": db, "table": "orders"}).returncode == 0
    got = sorted(fetch(db, "SELECT id, amount, ok, day, ts FROM orders"))
    sep = "T" if db.startswith("sqlite") else " "
    assert [(r[0], float(r[1]), bool(r[2]), str(r[3]), str(r[4])) for r in got] == [
        (1, 1.5, False, "2024-01-02", f"2024-01-01{sep}10:00:00.000001"),
        (2, 3.0, True, "2024-01-03", f"2024-01-01{sep}10:00:00.000002"),
    ]


def test_upsert_inserts_and_updates_by_key(db: str, tmp_path: Path) -> None:
    config = {"url": db, "table": "orders", "mode": "upsert", "key": ["id"]}
    first = write_artifact(tmp_path / "a1", orders([1, 2, 3]))
    assert load(tmp_path, first, config).returncode == 0
    second = pa.concat_tables([orders([3, 4], "v2"), orders([4], "v3")])
    result = load(tmp_path, write_artifact(tmp_path / "a2", second), config, run_id="run-2")
    assert result.returncode == 0, result.stderr
    assert rows(db) == [(1, "v1-1"), (2, "v1-2"), (3, "v2'\\3"), (4, "v3-4")]


def test_replace_swaps_content(db: str, tmp_path: Path) -> None:
    config = {"url": db, "table": "orders", "mode": "replace", "key": ["id"]}
    assert (
        load(tmp_path, write_artifact(tmp_path / "a1", orders([1, 2, 3])), config).returncode == 0
    )
    result = load(
        tmp_path, write_artifact(tmp_path / "a2", orders([7, 8], "v2")), config, run_id="run-2"
    )
    assert result.returncode == 0, result.stderr
    assert rows(db) == [(7, "v2-7"), (8, "v2-8")]
    upsert = {"url": db, "table": "orders", "mode": "upsert", "key": ["id"]}
    third = write_artifact(tmp_path / "a3", orders([8], "v3"))
    assert load(tmp_path, third, upsert, run_id="run-3").returncode == 0, "key survived replace"
    assert rows(db) == [(7, "v2-7"), (8, "v3-8")]


def test_replace_never_shows_an_empty_table(db: str, tmp_path: Path) -> None:
    config = {"url": db, "table": "orders", "mode": "replace", "batch_size": 500}
    assert (
        load(tmp_path, write_artifact(tmp_path / "a1", orders(list(range(100)))), config).returncode
        == 0
    )
    artifact = write_artifact(tmp_path / "a2", orders(list(range(20_000))))
    seen: set[int] = set()
    errors: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                seen.add(fetch(db, "SELECT count(*) FROM orders")[0][0])
            except Exception as err:  # any failed read breaks the guarantee
                errors.append(str(err))

    reader = threading.Thread(target=watch)
    reader.start()
    try:
        result = load(tmp_path, artifact, config, run_id="run-2")
    finally:
        done.set()
        reader.join()
    assert result.returncode == 0, result.stderr
    seen.add(fetch(db, "SELECT count(*) FROM orders")[0][0])
    assert errors == []
    assert seen == {100, 20_000}


def test_new_columns_fail_unless_allowed(db: str, tmp_path: Path) -> None:
    execute(
        db,
        "CREATE TABLE orders (id BIGINT, name VARCHAR(50))",
        "INSERT INTO orders VALUES (1, 'a')",
    )
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"id": [2], "name": ["b"], "extra": [1.5], "more": ["x"]})
    )
    result = load(tmp_path, artifact, {"url": db, "table": "orders"})
    assert result.returncode == 3
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'to-db': table 'orders' has no column(s) extra, more that "
        "the input has; set allow_new_columns=True to add them, or drop them upstream"
    )
    result = load(tmp_path, artifact, {"url": db, "table": "orders", "allow_new_columns": True})
    assert result.returncode == 0, result.stderr
    assert sorted(fetch(db, "SELECT id, name, extra, more FROM orders")) == [
        (1, "a", None, None),
        (2, "b", 1.5, "x"),
    ]


def test_bad_value_names_row_and_commits_nothing(db: str, tmp_path: Path) -> None:
    execute(
        db,
        "CREATE TABLE orders (id INTEGER, name VARCHAR(50))",
        "INSERT INTO orders VALUES (1, 'a')",
    )
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"id": ["2", "3", "4", "x4", "5"], "name": list("bcdef")})
    )
    result = load(tmp_path, artifact, {"url": db, "table": "orders", "batch_size": 2})
    assert result.returncode == 3
    declared = {"postgresql": "integer", "mysql": "int(11)", "sqlite": "INTEGER"}[db.split(":")[0]]
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'to-db': row 4 does not fit table 'orders': column 'id' "
        f"({declared}) cannot take 'x4'; fix the value upstream or the column type (nothing was "
        "loaded)"
    )
    assert rows(db) == [(1, "a")]
    assert ledger(db) == []


def test_upsert_needs_a_unique_key_on_existing_table(db: str, tmp_path: Path) -> None:
    execute(db, "CREATE TABLE orders (id BIGINT, name VARCHAR(50))")
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1], "name": ["a"]}))
    result = load(
        tmp_path, artifact, {"url": db, "table": "orders", "mode": "upsert", "key": ["id"]}
    )
    assert result.returncode == 2
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'to-db': table 'orders' has no primary key or unique index "
        "on (id), which upsert needs; add one or load into a new table (Ferry creates it with "
        "that primary key)"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"mode": "upsert"},
            "invalid load-sql config at (config): Value error, mode 'upsert' "
            "needs key: the columns that identify a row",
        ),
        (
            {"mode": "merge"},
            "invalid load-sql config at mode: Input should be 'append', 'replace' or 'upsert'",
        ),
    ],
)
def test_bad_config_exits_2(
    tmp_path: Path, config: dict[str, Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    config = {"url": f"sqlite://{tmp_path}/x.db", "table": "t", **config}
    result = load_here(tmp_path, artifact, config, capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == f"ferry: pipeline 'demo', step 'to-db': {message}"


def test_key_missing_from_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifact = write_artifact(tmp_path / "a1", pa.table({"id": [1]}))
    config = {"url": f"sqlite://{tmp_path}/x.db", "table": "t", "mode": "upsert", "key": ["code"]}
    result = load_here(tmp_path, artifact, config, capsys)
    assert result.returncode == 3
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'to-db': key column(s) code of table 't' are not in the "
        "input columns (id); fix key or the upstream step"
    )


def test_mariadb_range_error_names_the_load_row(mysql_url: str, tmp_path: Path) -> None:
    execute(mysql_url, "CREATE TABLE small (id INT, n TINYINT)")
    artifact = write_artifact(
        tmp_path / "a1", pa.table({"id": [1, 2, 3, 4, 5], "n": [1, 2, 3, 300, 5]})
    )
    result = load(tmp_path, artifact, {"url": mysql_url, "table": "small", "batch_size": 2})
    assert result.returncode == 3
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'to-db': row 4 does not fit table 'small': Out of range "
        "value for column 'n'; fix the value upstream or the column type (nothing was loaded)"
    )
    assert fetch(mysql_url, "SELECT count(*) FROM small") == [(0,)]
