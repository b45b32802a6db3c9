"""The partitioned example end to end: by file, then by week, the same result as orders-daily.

``orders-partitioned`` extracts and checks each demo CSV in its own partition and
computes the revenue per week of order dates; read as unions, its artifacts and its
dataset must match the independent expectations the unpartitioned demo is held to.
"""

import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.e2e.demo_expectations import Expected, expected_outcome
from tests.e2e.ferry_cli import EXAMPLES, ferry
from workflows.demo_data import generate

ROWS = 4_000
FILES = ["part-000.csv", "part-001.csv", "part-002.csv", "part-003.csv"]
WEEKS = ["2026-11-01", "2026-11-08"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    root = tmp_path_factory.mktemp("demo") / "data"
    generate(root, ROWS)
    return root, expected_outcome(root)


def run_partitioned(data_dir: Path | str, out: Path | str, store: Path | str, cwd: Path) -> Any:
    return ferry(
        "run", "orders-partitioned", "--pipelines", EXAMPLES, "-p", f"data_dir={data_dir}",
        "-p", f"output_dir={out}", "--store", str(store), "--output", "json", cwd=cwd,
    )  # fmt: skip


def _keys(task: dict[str, Any]) -> list[str]:
    return [json.loads(p["item"])["key"] for p in task["partitions"]]


def _assert_matches(record: dict[str, Any], store: str, revenue: str, expected: Expected) -> None:
    assert record["status"] == "Succeeded"
    tasks = {t["name"]: t for t in record["tasks"]}
    assert list(tasks) == [
        "orders-partitions",
        "customers",
        "weekly-revenue-partitions",
        "orders",
        "orders-checked",
        "weekly-revenue",
        "revenue-dataset",
    ]
    assert _keys(tasks["orders"]) == FILES
    assert _keys(tasks["orders-checked"]) == FILES
    assert _keys(tasks["weekly-revenue"]) == WEEKS
    assert tasks["orders"]["partitions"][0]["name"].startswith("orders(0:key:part-000.csv,path:")
    for name in ("orders", "orders-checked", "weekly-revenue"):
        parts = tasks[name]["partitions"]
        for field in ("rows_in", "rows_out", "rows_rejected"):
            assert tasks[name][field] == sum(p[field] for p in parts), (name, field)
    artifacts = open_location(store).child("artifacts", record["run_id"])

    orders = ArtifactReader(artifacts.child("orders"), "orders")  # the union of 4 partitions
    lines = {
        (Path(r["_ferry_source_file"]).name, r["_ferry_line"])
        for r in orders.dataset("quarantine").to_table().to_pylist()
    }
    assert lines == expected.extract_rejected_lines
    assert tasks["orders"]["rows_rejected"] == len(expected.extract_rejected_lines)

    checked = ArtifactReader(artifacts.child("orders-checked"), "orders-checked")
    rejected = {
        r["order_id"]: r["_ferry_reason"]
        for r in checked.dataset("quarantine").to_table().to_pylist()
    }
    assert rejected == expected.check_rejected_ids
    assert checked.rows == expected.good_rows == tasks["orders-checked"]["rows_out"]

    loaded = ds.dataset(
        revenue.removeprefix("s3://"),
        format="parquet",
        partitioning="hive",
        filesystem=open_location(revenue).fs,
    ).to_table()
    got = {
        (str(r["order_date"]), r["country"], r["status"], r["currency"]): (
            r["orders"],
            r["revenue"],
        )
        for r in loaded.to_pylist()
    }
    assert set(got) == set(expected.revenue)
    for key, (count, amount) in expected.revenue.items():
        assert got[key][0] == count, key
        assert got[key][1] == pytest.approx(amount, rel=1e-9), key


def test_partitioned_example_on_a_local_store(demo: tuple[Path, Expected], tmp_path: Path) -> None:
    data_dir, expected = demo
    result = run_partitioned(data_dir, tmp_path / "out", tmp_path / "store", tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    _assert_matches(
        record, str(tmp_path / "store"), str(tmp_path / "out/partitioned_revenue"), expected
    )


def test_partitioned_example_on_an_s3_store(
    demo: tuple[Path, Expected], tmp_path: Path, s3_bucket: str, s3_env: dict[str, str]
) -> None:
    import boto3

    data_dir, expected = demo
    bucket = s3_bucket.removeprefix("s3://")
    client = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    for path in data_dir.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"input/{path.relative_to(data_dir)}")
    store = f"{s3_bucket}/store"
    result = run_partitioned(f"{s3_bucket}/input", f"{s3_bucket}/out", store, tmp_path)
    assert result.returncode == 0, result.stderr
    _assert_matches(
        json.loads(result.stdout), store, f"{s3_bucket}/out/partitioned_revenue", expected
    )


def test_a_failed_partition_fails_the_run_and_retry_runs_only_it(
    demo: tuple[Path, Expected], tmp_path: Path
) -> None:
    source, expected = demo
    data_dir = tmp_path / "data"
    for path in source.rglob("*"):
        if path.is_file():
            (data_dir / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (data_dir / path.relative_to(source)).write_bytes(path.read_bytes())
    broken = data_dir / "orders" / "part-002.csv"
    good = broken.read_bytes()
    broken.write_bytes(b"\x1f\x8b" + good[2:])  # gzip magic: the extract refuses it

    first = run_partitioned(data_dir, tmp_path / "out", tmp_path / "store", tmp_path)
    assert first.returncode == 1
    record = json.loads(first.stdout)
    tasks = {t["name"]: t for t in record["tasks"]}
    orders = tasks["orders"]
    by_key = {json.loads(p["item"])["key"]: p for p in orders["partitions"]}
    assert orders["status"] == "Failed"
    assert by_key["part-002.csv"]["status"] == "Failed"
    assert by_key["part-002.csv"]["not_retried"] == "bad usage or config"
    assert orders["reason"].startswith("partition orders(2:key:part-002.csv,path:")
    assert [by_key[k]["status"] for k in ("part-000.csv", "part-001.csv")] == ["Succeeded"] * 2
    assert tasks["orders-checked"]["status"] == "Omitted"
    assert "part-002.csv" in first.stderr

    broken.write_bytes(good)
    again = ferry("retry", record["run_id"], "--store", "store", "--output", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun = sum(1 for p in orders["partitions"] if p["status"] != "Succeeded")
    assert again.stderr.splitlines()[0].startswith(
        f"retrying {record['run_id']}: running orders ({rerun} of 4 partitions), orders-checked, "
    )
    after = {t["name"]: t for t in json.loads(again.stdout)["tasks"]}
    kept = [p for p in orders["partitions"] if p["status"] == "Succeeded"]
    assert [
        p for p in after["orders"]["partitions"] if p["name"] in {k["name"] for k in kept}
    ] == kept
    assert all(p["attempts"] == 1 for p in after["orders"]["partitions"])
    _assert_matches(
        json.loads(again.stdout),
        str(tmp_path / "store"),
        str(tmp_path / "out/partitioned_revenue"),
        expected,
    )
