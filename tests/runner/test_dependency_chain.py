"""A dependency chain of two real pipelines run locally: ``ferry run`` of the upstream."""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

HERE = Path(__file__).resolve().parent
CHAIN = str(HERE / "chain" / "chain_pipelines.py")
FERRY = [sys.executable, "-c", "from workflows.cli import main; main()"]


def ferry(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FERRY, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


def record_of(project: Path, pipeline: str, run_id: str) -> dict:
    return json.loads((project / "store" / "runs" / pipeline / run_id / "run.json").read_text())


def runs_of(project: Path, pipeline: str) -> list[str]:
    folder = project / "store" / "runs" / pipeline
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "people.csv").write_text("id,name\n1,ada\n2,grace\n3,\n")
    return tmp_path


@pytest.mark.slow
def test_the_downstream_runs_after_the_upstream_with_its_run_date(project: Path) -> None:
    result = ferry(
        "run",
        "chain-load",
        "--pipelines",
        CHAIN,
        "--store",
        "store",
        "-p",
        "run_date=2026-11-01",
        "--output",
        "json",
        cwd=project,
    )

    assert result.returncode == 0, result.stderr
    upstream = json.loads(result.stdout)
    trigger = upstream["tasks"][-1]
    assert (trigger["name"], trigger["status"], trigger["hook"]) == (
        "trigger-chain-report",
        "Succeeded",
        "exit",
    )
    (downstream_id,) = runs_of(project, "chain-report")
    assert trigger["created_run"] == downstream_id
    downstream = record_of(project, "chain-report", downstream_id)
    assert downstream["status"] == "Succeeded"
    assert downstream["triggered_by"] == upstream["run_id"]
    assert downstream["parameters"]["run_date"] == "2026-11-01"
    assert downstream["store"] == upstream["store"]
    # It read what the upstream wrote: 2 of 3 people have a name.
    checked = next(t for t in downstream["tasks"] if t["name"] == "people-checked")
    assert (checked["rows_in"], checked["rows_out"], checked["rows_rejected"]) == (3, 2, 1)
    report = pq.read_table(project / "out" / "report" / "2026-11-01")
    assert sorted(report.column("name").to_pylist()) == ["ada", "grace"]


@pytest.mark.slow
def test_no_triggers_runs_the_upstream_alone(project: Path) -> None:
    result = ferry(
        "run", "chain-load", "--pipelines", CHAIN, "--store", "store", "--no-triggers", cwd=project
    )

    assert result.returncode == 0, result.stderr
    assert runs_of(project, "chain-report") == []
    (upstream_id,) = runs_of(project, "chain-load")
    trigger = record_of(project, "chain-load", upstream_id)["tasks"][-1]
    assert (trigger["status"], trigger["reason"]) == (
        "Skipped",
        "dependency triggers are off; chain-report not started",
    )


@pytest.mark.slow
def test_a_failed_upstream_does_not_start_the_downstream(project: Path) -> None:
    result = ferry(
        "run",
        "chain-load",
        "--pipelines",
        CHAIN,
        "--store",
        "store",
        "-p",
        "data_dir=nowhere",
        cwd=project,
    )

    assert result.returncode == 1
    assert runs_of(project, "chain-report") == []
    (upstream_id,) = runs_of(project, "chain-load")
    trigger = record_of(project, "chain-load", upstream_id)["tasks"][-1]
    assert (trigger["status"], trigger["reason"]) == (
        "Skipped",
        "when '{{workflow.status}} == Succeeded' was false",
    )


def test_a_rendered_upstream_finds_its_downstream_beside_it_or_is_refused(project: Path) -> None:
    rendered = ferry("render", "--pipelines", CHAIN, "--out", "rendered", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    downstream = project / "rendered" / "chain-report" / "workflowtemplate.yaml"
    downstream.rename(project / "elsewhere.yaml")

    result = ferry(
        "run",
        "--manifest",
        "rendered/chain-load/workflow.yaml",
        "--store",
        "store",
        cwd=project,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ferry: --manifest rendered/chain-load/workflow.yaml: a dependency trigger creates a "
        "Workflow from WorkflowTemplate 'chain-report', but "
        "rendered/chain-report/workflowtemplate.yaml does not exist; render that pipeline "
        "into the same folder, or run with --no-triggers"
    )
    assert not (project / "store" / "runs").exists()
