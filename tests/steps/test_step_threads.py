"""A step leaves no thread of its own running once its ``main()`` has returned.

A thread still inside pyarrow or DuckDB when the interpreter finalizes can abort the
process after the step has done its work and logged ``step_finished`` (``terminate
called without an active exception``, exit -6), which the runner then reports as a
failed attempt. So every kind that starts threads (Parquet writes behind the step,
read-ahead of checks and SQL sources, the deadline timer of HTTP requests) is run
here as ``python -m steps`` runs it, in a process of its own, and the threads still
alive right after ``main()`` returns are listed: none may be, whether the step
succeeded or failed half-way.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from steps.extract.http.transport import Deadline
from tests.sources.http_server import Reply, script, serve
from tests.targets.sqlhelp import step_args, write_artifact

PROBE = """
import json, sys, threading
from steps.runtime.harness import main
code = main(sys.argv[1:])
alive = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
print("threads alive after main: " + json.dumps(alive), file=sys.stderr)
sys.exit(code)
"""
"""``python -m steps`` (``steps/__main__.py``), telling which threads outlived ``main()``."""
USER = Path(__file__).resolve().parent / "python_user"


def threads_after(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    """Run the step in a fresh interpreter; the names of the threads alive after main()."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), **(env or {})},
        timeout=120,
    )
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("threads alive after main: "), result.stderr
    alive: list[str] = json.loads(line.removeprefix("threads alive after main: "))
    return alive


def _orders(rows: int, duplicate_every: int = 7) -> pa.Table:
    ids = [i - i % duplicate_every if i % duplicate_every == 3 else i for i in range(rows)]
    codes = [str(i) for i in range(rows)]
    return pa.table({"order_id": ids, "code": codes})


@pytest.fixture
def orders(tmp_path: Path) -> str:
    """An artifact of 200 orders in 20 batches, some order ids twice."""
    table = _orders(200)
    return write_artifact(tmp_path / "orders", pa.Table.from_batches(table.to_batches(10)))


def test_a_check_with_a_unique_rule_joins_its_read_ahead_and_its_writes(
    tmp_path: Path, orders: str
) -> None:
    config = {
        "rules": [{"rule": "unique", "columns": ["order_id"]}],
        "threshold": 0.5,
        "batch_size": 10,
    }
    args = step_args(
        "check", "checked", tmp_path / "store", config,
        inputs=[f"orders={orders}"], output=tmp_path / "checked",
    )  # fmt: skip
    assert threads_after(args, tmp_path) == []
    assert (tmp_path / "checked" / "_manifest.json").is_file()


def test_a_check_that_fails_half_way_joins_its_read_ahead_and_its_writes(
    tmp_path: Path, orders: str
) -> None:
    """The cast fails at the batch holding code 'x', with batches written and read ahead."""
    table = _orders(200)
    codes = table.column("code").to_pylist()
    codes[150] = "x"
    bad = write_artifact(
        tmp_path / "bad", pa.table({"order_id": table.column("order_id"), "code": codes}), step="o"
    )
    rule = {"rule": "sql", "name": "positive", "predicate": "CAST(code AS INTEGER) >= 0"}
    config = {"rules": [rule], "threshold": 0.5, "batch_size": 10}
    args = step_args(
        "check", "checked", tmp_path / "store", config,
        inputs=[f"orders={bad}"], output=tmp_path / "checked",
    )  # fmt: skip
    assert threads_after(args, tmp_path) == []
    assert not (tmp_path / "checked" / "_manifest.json").exists()


def test_a_files_extract_that_fails_at_its_second_file_joins_its_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,qty\n" + "".join(f"{i},{i}\n" for i in range(5000)))
    (data / "b.csv").write_text("id,qty\n1,2\n2,two\n")
    config = {
        "path": str(data / "*.csv"),
        "format": "csv",
        "columns": {"id": "int64", "qty": "int64"},
        "on_bad_row": "fail",
        "batch_size": 100,
    }
    args = step_args("extract-files", "orders", tmp_path / "store", config, output=tmp_path / "o")
    assert threads_after(args, tmp_path) == []
    assert not (tmp_path / "o" / "_manifest.json").exists()


def test_a_python_step_whose_function_raises_half_way_joins_its_writes(
    tmp_path: Path, orders: str
) -> None:
    config = {"function": "ferry_test_fns.wrong:boom", "inputs": ["orders"], "batch_size": 10}
    args = step_args(
        "python", "enriched", tmp_path / "store", config,
        inputs=[f"orders={orders}"], output=tmp_path / "enriched",
    )  # fmt: skip
    assert threads_after(args, tmp_path, {"PYTHONPATH": str(USER)}) == []


def _sqlite_orders(tmp_path: Path, codes: list[str]) -> str:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, code TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?)", list(enumerate(codes)))
    return f"sqlite://{path}"


def test_a_sql_extract_joins_its_read_ahead_and_its_writes(tmp_path: Path) -> None:
    url = _sqlite_orders(tmp_path, [str(i) for i in range(50)])
    config = {"url": url, "table": "orders", "batch_size": 5}
    args = step_args("extract-sql", "orders", tmp_path / "store", config, output=tmp_path / "o")
    assert threads_after(args, tmp_path) == []
    assert (tmp_path / "o" / "_manifest.json").is_file()


def test_a_sql_extract_rejected_half_way_joins_its_read_ahead_and_its_writes(
    tmp_path: Path,
) -> None:
    """The 31st row does not fit the declared columns: batches were written and read ahead."""
    url = _sqlite_orders(tmp_path, [str(i) if i != 30 else "x" for i in range(50)])
    config = {
        "url": url,
        "query": "SELECT id, code FROM orders ORDER BY id",
        "columns": {"id": "int64", "code": "int64"},
        "batch_size": 5,
    }
    args = step_args("extract-sql", "orders", tmp_path / "store", config, output=tmp_path / "o")
    assert threads_after(args, tmp_path) == []
    assert not (tmp_path / "o" / "_manifest.json").exists()


def test_an_http_extract_joins_the_deadline_timer_of_each_request(tmp_path: Path) -> None:
    pages = [{"data": [{"id": 1}, {"id": 2}], "next": "/orders?p=2"}, {"data": [{"id": 3}]}]
    with serve({"/orders": script(*(Reply(json=page) for page in pages))}) as srv:
        config = {
            "url": srv.url("/orders"),
            "records_path": "data",
            "pagination": {"type": "next_link", "next_path": "next"},
        }
        args = step_args(
            "extract-http", "orders", tmp_path / "store", config, output=tmp_path / "o"
        )
        assert threads_after(args, tmp_path) == []
    manifest = json.loads((tmp_path / "o" / "_manifest.json").read_text())
    assert manifest["rows"]["data"] == 3


def test_leaving_a_deadline_ends_its_timer_thread() -> None:
    with Deadline(30) as deadline:
        timer = deadline._timer
        assert timer.is_alive()
    assert not timer.is_alive()
