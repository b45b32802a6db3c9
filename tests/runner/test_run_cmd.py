import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from workflows.cli import cli

HERE = Path(__file__).resolve().parent
TINY = str(HERE / "pipelines" / "tiny_pipeline.py")
FERRY = [sys.executable, "-c", "from workflows.cli import main; main()"]


def ferry(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FERRY, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "people.csv").write_text("id,name\n1,ada\n2,grace\n3,edsger\n4,barbara\n")
    return tmp_path


@pytest.fixture(scope="module")
def tiny_workflow() -> dict:
    """The rendered Workflow of the tiny pipeline, without retries (failures end fast)."""
    from workflows.discovery import get_pipeline
    from workflows.render import render_pipeline

    manifest = render_pipeline(get_pipeline("runner-tiny", [TINY])).workflow
    for template in manifest["spec"]["templates"]:
        template.pop("retryStrategy", None)
    return manifest


@pytest.mark.parametrize("command", ["run", "runs"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])

    assert result.exit_code == 0
    assert "Example:\n" in result.output
    assert f"  ferry {command}" in result.output


@pytest.mark.slow
def test_ferry_run_executes_the_rendered_pipeline_and_ferry_runs_lists_it(project: Path) -> None:
    result = ferry(
        "run",
        "runner-tiny",
        "--pipelines",
        TINY,
        "--store",
        "store",
        "--output",
        "json",
        cwd=project,
    )

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "Succeeded"
    assert record["pipeline"] == "runner-tiny"
    assert record["store"] == str(project / "store")
    assert [(t["name"], t["status"], t["rows_in"], t["rows_out"]) for t in record["tasks"]] == [
        ("people", "Succeeded", 4, 4),
        ("people-checked", "Succeeded", 4, 4),
        ("people-dataset", "Succeeded", 4, 4),
    ]
    assert "▶ people started" in result.stderr
    assert list((project / "out" / "people").rglob("*.parquet"))
    assert (
        project / "store" / "runs" / "runner-tiny" / record["run_id"] / "logs" / "people.log"
    ).is_file()

    listed = ferry("runs", "--store", "store", "--output", "json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [record["run_id"]]
    table = ferry("runs", "runner-tiny", "--store", "store", cwd=project)
    assert (
        record["run_id"] in table.stdout and "Succeeded" in table.stdout and "3/3" in table.stdout
    )


def test_a_failed_run_prints_the_summary_and_exits_1(project: Path, tiny_workflow: dict) -> None:
    (project / "workflow.yaml").write_text(yaml.safe_dump(tiny_workflow))

    result = ferry(
        "run", "--manifest", "workflow.yaml", "-p", "data_dir=nowhere", "--store", "s", cwd=project
    )

    assert result.returncode == 1
    assert "people" in result.stdout and "Failed" in result.stdout and "Omitted" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ferry: run runner-tiny-")
    # The reason is the step's own last stderr line.
    assert "failed: step 'people': ferry: pipeline 'runner-tiny', step 'people': " in last
    assert f"{project}/nowhere/people.csv" in last


def test_unknown_p_is_exit_2(project: Path) -> None:
    result = ferry(
        "run", "runner-tiny", "--pipelines", TINY, "-p", "rundate=2026-11-01", cwd=project
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "ferry: -p rundate: pipeline 'runner-tiny' has no parameter 'rundate'; "
        "known: store, run_date, data_dir, output_dir\n"
    )


def test_malformed_p_is_exit_2(project: Path) -> None:
    result = ferry("run", "--manifest", "workflow.yaml", "-p", "rundate", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: -p 'rundate': expected name=value, e.g. -p run_date=2026-11-01\n",
    )


def test_an_unsupported_manifest_is_exit_2(project: Path) -> None:
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "x-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": [[]]}]},
    }
    (project / "wf.yaml").write_text(yaml.safe_dump(manifest))

    result = ferry("run", "--manifest", "wf.yaml", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: wf.yaml: the local runner refuses this manifest: "
        "spec.templates[0].steps: not supported by the local runner\n",
    )


def test_pipeline_and_manifest_together_are_exit_2(project: Path) -> None:
    result = ferry("run", "runner-tiny", "--manifest", "wf.yaml", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: name a PIPELINE or pass --manifest FILE (one of the two)\n",
    )
