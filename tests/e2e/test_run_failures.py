"""How ``ferry run`` fails: exit code, the failing step, and its one-line reason."""

import json
from pathlib import Path

from tests.e2e.ferry_cli import ferry
from workflows.demo_data import generate

PIPELINES = str(Path(__file__).parent / "pipelines")


def test_quality_below_threshold_fails_the_run_after_writing_quarantine(tmp_path: Path) -> None:
    generate(tmp_path / "data", 2_000)
    result = ferry(
        "run",
        "strict-orders",
        "--pipelines",
        PIPELINES,
        "-p",
        f"data_dir={tmp_path / 'data'}",
        "--store",
        str(tmp_path / "store"),
        "--output",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    record = json.loads(result.stdout)
    tasks = {t["name"]: t for t in record["tasks"]}
    assert record["status"] == "Failed"
    assert tasks["orders-checked"]["status"] == "Failed"
    assert tasks["orders-checked"]["attempts"] == 1
    assert tasks["orders-checked"]["exit_code"] == 3
    assert tasks["orders-checked"]["not_retried"] == "data rejected"
    checked = {k: tasks["orders-checked"][k] for k in ("rows_in", "rows_out", "rows_rejected")}
    assert checked == {"rows_in": 1998, "rows_out": 1986, "rows_rejected": 12}
    assert tasks["orders-checked"]["quality_score"] == 0.993994
    assert "✖ orders-checked failed (data rejected, not retried): ferry: pipeline " in result.stderr
    assert tasks["orders-checked"]["reason"] == (
        "ferry: pipeline 'strict-orders', step 'orders-checked': quality score 0.9940 is below "
        "threshold 0.9990 (1986/1998 rows valid); worst rules: not_null(customer_id) 2 rows, "
        "unique(order_id) 2 rows, accepted_values(status) 2 rows; see quarantine at "
        f"{tmp_path / 'store'}/artifacts/{record['run_id']}/orders-checked/quarantine"
    )
    assert [tasks[n]["status"] for n in ("daily-revenue", "revenue-dataset")] == ["Omitted"] * 2
    quarantine = tmp_path / "store" / "artifacts" / record["run_id"] / "orders-checked"
    assert (quarantine / "_manifest.json").exists()
    assert (quarantine / "report.json").exists()


def test_missing_input_files_fail_the_extract_with_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = ferry(
        "run",
        "strict-orders-no-retry",
        "--pipelines",
        PIPELINES,
        "-p",
        f"data_dir={missing}",
        "--store",
        str(tmp_path / "store"),
        "--output",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    tasks = {t["name"]: t for t in json.loads(result.stdout)["tasks"]}
    assert tasks["orders"]["reason"].startswith(
        f"ferry: pipeline 'strict-orders-no-retry', step 'orders': no files match "
        f"{missing}/orders/*.csv"
    )


def test_unknown_pipeline_is_bad_usage(tmp_path: Path) -> None:
    result = ferry(
        "run", "no-such-pipeline", "--pipelines", PIPELINES, "--store", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ferry: no pipeline named 'no-such-pipeline'")
