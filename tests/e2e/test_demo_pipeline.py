"""The demo pipeline end to end through ``ferry run``, on a local store and on S3.

Every assertion compares Ferry's output with ``demo_expectations``, an independent
plain-Python derivation from the raw generated files, and with the generator's own
list of planted defects.
"""

import json
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.e2e.demo_expectations import Expected, expected_outcome
from tests.e2e.ferry_cli import ferry, run_demo
from workflows.demo_data import EXTRACT_DEFECTS, generate, order_id_of

ROWS = 4_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    root = tmp_path_factory.mktemp("demo") / "data"
    generate(root, ROWS)
    return root, expected_outcome(root)


def _assert_run_matches(record: dict, store: str, revenue_uri: str, expected: Expected) -> None:
    assert record["status"] == "Succeeded"
    tasks = {t["name"]: t for t in record["tasks"]}
    assert [t["status"] for t in tasks.values() if t["hook"] is None] == ["Succeeded"] * 5
    # Its exit handler started customer-quality (a dependency trigger) on the same store.
    assert tasks["trigger-customer-quality"]["status"] == "Succeeded"
    assert tasks["trigger-customer-quality"]["created_run"].startswith("customer-quality-")
    run_id = record["run_id"]
    artifacts = open_location(store).child("artifacts", run_id)

    orders = ArtifactReader(artifacts.child("orders"), "orders")
    quarantined = orders.dataset("quarantine").to_table().to_pylist()
    got_lines = {(Path(r["_ferry_source_file"]).name, r["_ferry_line"]) for r in quarantined}
    assert got_lines == expected.extract_rejected_lines
    assert tasks["orders"]["rows_rejected"] == len(expected.extract_rejected_lines)
    assert (
        tasks["orders"]["rows_in"] == tasks["orders"]["rows_out"] + tasks["orders"]["rows_rejected"]
    )

    checked = ArtifactReader(artifacts.child("orders-checked"), "orders-checked")
    rejected = {
        r["order_id"]: r["_ferry_reason"]
        for r in checked.dataset("quarantine").to_table().to_pylist()
    }
    assert rejected == expected.check_rejected_ids
    assert checked.rows == expected.good_rows
    assert tasks["orders-checked"]["rows_rejected"] == len(expected.check_rejected_ids)

    loaded = ds.dataset(
        revenue_uri.removeprefix("s3://") if revenue_uri.startswith("s3://") else revenue_uri,
        format="parquet",
        partitioning="hive",
        filesystem=open_location(revenue_uri).fs,
    ).to_table()
    got = {
        (str(r["order_date"]), r["country"], r["status"], r["currency"]): (
            r["orders"],
            r["revenue"],
        )
        for r in loaded.to_pylist()
    }
    assert loaded.num_rows == len(expected.revenue)
    assert set(got) == set(expected.revenue)
    for key, (count, revenue) in expected.revenue.items():
        assert got[key][0] == count, key
        assert got[key][1] == pytest.approx(revenue, rel=1e-9), key


def test_planted_defects_are_what_the_expectations_reject(demo: tuple[Path, Expected]) -> None:
    from workflows.demo_data import planted_defects

    _, expected = demo
    planted = planted_defects(ROWS)
    check_ids = {order_id_of(i) for i, kind in planted.items() if kind not in EXTRACT_DEFECTS}
    assert set(expected.check_rejected_ids) == check_ids
    unparsable = sum(1 for kind in planted.values() if kind == "unparsable_amount")
    assert len(expected.extract_rejected_lines) == unparsable + 4 * 2


def test_demo_pipeline_on_a_local_store(demo: tuple[Path, Expected], tmp_path: Path) -> None:
    data_dir, expected = demo
    store, out = tmp_path / "store", tmp_path / "out"
    result = run_demo(data_dir, out, store, tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    _assert_run_matches(record, str(store), str(out / "daily_revenue"), expected)
    listed = ferry("runs", "orders-daily", "--store", str(store), "--output", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [record["run_id"]]


def test_demo_pipeline_on_an_s3_store(
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
    result = run_demo(f"{s3_bucket}/input", f"{s3_bucket}/out", store, tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    _assert_run_matches(record, store, f"{s3_bucket}/out/daily_revenue", expected)
    keys = {
        o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="store/runs/")["Contents"]
    }
    assert f"store/runs/orders-daily/{record['run_id']}/run.json" in keys
    assert not (tmp_path / ".ferry").exists()


def test_rerun_of_the_demo_replaces_partitions_without_duplicates(
    demo: tuple[Path, Expected], tmp_path: Path
) -> None:
    data_dir, expected = demo
    out = tmp_path / "out"
    for _ in range(2):
        result = run_demo(data_dir, out, tmp_path / "store", tmp_path)
        assert result.returncode == 0, result.stderr
    table = pq.read_table(out / "daily_revenue", partitioning="hive")
    assert table.num_rows == len(expected.revenue)
    assert sum(table.column("orders").to_pylist()) == expected.good_rows
