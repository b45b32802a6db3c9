"""The graph-shaped examples end to end through ``ferry run``: the YAML one and the Python one.

Expectations are derived from the generated CSV files with Python's csv module, not
from Ferry: which rows each rule rejects, which e-mail addresses are not addresses.
"""

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.e2e.ferry_cli import EXAMPLES, ferry
from workflows.demo_data import generate

ROWS = 3_000
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph") / "data"
    generate(root, ROWS)
    return root


def parsed_orders(root: Path) -> list[dict[str, str]]:
    """Rows of the demo CSVs that have all their fields and a numeric amount."""
    rows = []
    for path in sorted((root / "orders").glob("*.csv")):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                if None in row.values() or row.get("email") is None:
                    continue
                try:
                    float(row["amount"])
                except ValueError:
                    continue
                rows.append(row)
    return rows


def run(pipeline: str, demo: Path, tmp_path: Path, *params: str) -> dict[str, Any]:
    result = ferry(
        "run", pipeline, "--pipelines", EXAMPLES, "-p", f"data_dir={demo}",
        "-p", f"output_dir={tmp_path / 'out'}", *params, "--store", str(tmp_path / "store"),
        "--output", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def test_the_yaml_example_warns_and_runs_every_step(demo: Path, tmp_path: Path) -> None:
    record = run("orders-by-segment", demo, tmp_path)
    tasks = {t["name"]: t for t in record["tasks"]}
    assert record["status"] == "Succeeded"
    assert all(t["status"] == "Succeeded" for t in tasks.values())
    gate = tasks["orders-valid"]
    assert gate["warning"].startswith("quality score ")
    assert "is below threshold 0.9980" in gate["warning"]
    assert gate["rows_in"] == gate["rows_out"] + gate["rows_rejected"]
    assert tasks["enriched-valid"]["warning"] is None
    enriched = tasks["orders-enriched"]
    assert enriched["input_rows"] == {
        "orders-valid": gate["rows_out"],
        "customers": tasks["customers"]["rows_out"],
    }
    assert enriched["rows_in"] == sum(enriched["input_rows"].values())
    assert enriched["rows_out"] == gate["rows_out"]  # a left join on a unique key
    loaded = ds.dataset(tmp_path / "out" / "orders_enriched", partitioning="hive")
    assert loaded.count_rows() == tasks["enriched-valid"]["rows_out"]
    daily = ds.dataset(tmp_path / "out" / "segment_daily", partitioning="hive").to_table()
    assert sum(daily["orders"].to_pylist()) == tasks["enriched-valid"]["rows_out"]


def test_the_python_step_example_pseudonymizes_and_quarantines(demo: Path, tmp_path: Path) -> None:
    record = run("orders-pseudonymized", demo, tmp_path, "-p", "salt=s1")
    tasks = {t["name"]: t for t in record["tasks"]}
    assert record["status"] == "Succeeded"
    step = tasks["orders-pseudonymous"]
    narrow = tasks["orders-narrow"]
    assert step["input_rows"] == {"orders-narrow": narrow["rows_out"]}
    assert step["rows_in"] == step["rows_out"] + step["rows_rejected"]
    artifact = tmp_path / "store" / "artifacts" / record["run_id"] / "orders-pseudonymous"
    quarantine = ds.dataset(artifact / "quarantine").to_table().to_pylist()
    assert {r["_ferry_reason"] for r in quarantine} == {
        "email is not an address; nothing to pseudonymize"
    }
    assert all(not ADDRESS.match(r["email"]) for r in quarantine)
    data = ds.dataset(artifact / "data").to_table()
    assert "email" not in data.column_names
    first = ds.dataset(artifact / "data").head(1).to_pylist()[0]
    source = next(r for r in parsed_orders(demo) if int(r["order_id"]) == first["order_id"])
    email = source["email"].strip().lower()
    assert first["customer_key"] == hashlib.sha256(b"s1" + email.encode()).hexdigest()[:16]
    assert first["email_domain"] == email.split("@")[1]
    daily = ds.dataset(tmp_path / "out" / "domain_daily", partitioning="hive").to_table()
    assert sum(daily["orders"].to_pylist()) == step["rows_out"]
