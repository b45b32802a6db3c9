"""``ferry retry``: a failed run resumed under its run id; kept steps not re-run, no duplicates."""

import json
import textwrap
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.ferry_cli import ferry

PIPELINE = """\
from workflows import (
    FilesExtract, Pipeline, RetryPolicy, Source, SqlTableLoad, Target, Transform, param,
)

PG = {url!r}

pipeline = Pipeline(
    name="retry-dag",
    params={{"data_dir": "data"}},
    retry=RetryPolicy(limit=0),
    steps=[
        Source(name="orders", config=FilesExtract(
            path=f"{{param('data_dir')}}/orders.csv", format="csv",
            columns={{"id": "int64", "customer": "int64", "amount": "float64"}})),
        Source(name="customers", config=FilesExtract(
            path=f"{{param('data_dir')}}/customers.csv", format="csv",
            columns={{"customer": "int64", "name": "string"}})),
        Target(name="orders-table", input="orders",
               config=SqlTableLoad(url=PG, table="orders_raw", mode="append")),
        Transform(name="enriched", inputs=["orders", "customers"], sql=(
            "select o.id, c.name, o.amount * f.factor as amount "
            "from orders o join customers c using (customer), "
            f"read_csv({{param('data_dir')}} || '/factor.csv') f")),
        Target(name="enriched-table", input="enriched",
               config=SqlTableLoad(url=PG, table="enriched", mode="append")),
    ],
)
"""

FACTOR = "factor\n2\n"
ORDERS = "id,customer,amount\n" + "".join(f"{i},{i % 3},{i}.5\n" for i in range(1, 101))
CUSTOMERS = "customer,name\n0,zero\n1,one\n2,two\n"


def run_json(result: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def tasks(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in record["tasks"]}


def count(pg_url: str, table: str) -> tuple[int, int]:
    schema = pg_url.rpartition("%3D")[2]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        total, distinct = conn.execute(
            f'select count(*), count(distinct id) from "{schema}"."{table}"'
        ).fetchone()  # type: ignore[misc]
    return int(total), int(distinct)


def test_retry_runs_the_failed_part_of_the_dag_once(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "dag.py").write_text(textwrap.dedent(PIPELINE.format(url=pg_url)))
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text(ORDERS)
    (data / "customers.csv").write_text(CUSTOMERS)  # factor.csv is missing: enriched fails
    common = ("--store", "store", "--output", "json")

    first = ferry(
        "run", "retry-dag", "--pipelines", str(folder), "-p", f"data_dir={data}", *common,
        cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 1
    record = run_json(first)
    run_id = record["run_id"]
    before = tasks(record)
    assert {n: t["status"] for n, t in before.items()} == {
        "orders": "Succeeded",
        "customers": "Succeeded",
        "orders-table": "Succeeded",
        "enriched": "Failed",
        "enriched-table": "Omitted",
    }
    assert count(pg_url, "orders_raw") == (100, 100)

    (data / "factor.csv").write_text(FACTOR)
    again = ferry("retry", run_id, *common, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[0] == (
        f"retrying {run_id}: running enriched, enriched-table; keeping orders, customers, "
        "orders-table"
    )
    record = run_json(again)
    after = tasks(record)
    assert record["run_id"] == run_id and record["retries"] == 1
    assert all(t["status"] == "Succeeded" for t in after.values())
    for kept in ("orders", "customers", "orders-table"):  # not run again: the same record
        assert after[kept] == before[kept]
    assert after["enriched"]["input_rows"] == {"orders": 100, "customers": 3}
    assert count(pg_url, "orders_raw") == (100, 100)
    assert count(pg_url, "enriched") == (100, 100)

    from_orders = ferry("retry", run_id, "--from", "orders", *common, cwd=tmp_path)
    assert from_orders.returncode == 0, from_orders.stderr
    rerun = tasks(run_json(from_orders))
    assert rerun["customers"] == after["customers"]
    assert rerun["orders-table"]["started"] != after["orders-table"]["started"]
    assert count(pg_url, "orders_raw") == (100, 100)  # the ledger keeps one copy per run id
    assert count(pg_url, "enriched") == (100, 100)

    listed = json.loads(ferry("runs", "--store", "store", "--output", "json", cwd=tmp_path).stdout)
    assert [r["run_id"] for r in listed] == [run_id]


SMALL = """\
from workflows import FilesExtract, ParquetDatasetLoad, Pipeline, Source, Target

pipeline = Pipeline(
    name="small",
    steps=[
        Source(name="rows", config=FilesExtract(path="data/rows.csv", format="csv")),
        Target(name="out", input="rows", config=ParquetDatasetLoad(path="out", mode="overwrite")),
    ],
)
"""


def test_retry_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    (tmp_path / "small.py").write_text(SMALL)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("id\n1\n")
    done = ferry(
        "run", "small", "--pipelines", str(tmp_path / "small.py"), "--store", "store",
        "--output", "json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = run_json(done)["run_id"]

    missing = ferry("retry", "small-zzzzz", "--store", "store", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (
        2,
        f"ferry: no run 'small-zzzzz' in store; recent runs: {run_id} (list them with "
        "ferry runs)\n",
    )
    succeeded = ferry("retry", run_id, "--store", "store", cwd=tmp_path)
    assert (succeeded.returncode, succeeded.stderr) == (
        2,
        f"ferry: run {run_id!r} succeeded; nothing to retry (--from STEP runs a step and "
        "everything downstream of it again)\n",
    )
    unknown = ferry("retry", run_id, "--from", "rowz", "--store", "store", cwd=tmp_path)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        f"ferry: --from 'rowz': run {run_id!r} has no such step; its steps: rows, out\n",
    )
    again = ferry("retry", run_id, "--from", "out", "--store", "store", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
