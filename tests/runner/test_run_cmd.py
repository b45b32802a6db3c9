import json
import os
import subprocess
import sys
from datetime import UTC, datetime
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
    # The reason is the step's own last stderr line, without repeating pipeline and step.
    assert last.endswith(
        f" failed: step 'people': file not found: {project}/nowhere/people.csv; check the path"
    )
    assert f"{project}/nowhere/people.csv" in last


def test_unknown_p_is_exit_2(project: Path) -> None:
    result = ferry(
        "run", "runner-tiny", "--pipelines", TINY, "-p", "rundate=2026-11-01", cwd=project
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "ferry: -p rundate: pipeline 'runner-tiny' has no parameter 'rundate'; "
        "known: store, run_date, interval_start, interval_end, data_dir, output_dir\n"
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


def test_pipelines_with_a_manifest_is_exit_2(project: Path) -> None:
    result = ferry("run", "--manifest", "wf.yaml", "--pipelines", "elsewhere", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: --pipelines has no effect with --manifest (the manifest is already "
        "rendered); drop --pipelines, or name a PIPELINE instead of --manifest\n",
    )


STORE_FOLDER_HINT = "pass a folder that can be created and written, or s3://bucket/prefix"


@pytest.mark.parametrize("command", ["run", "runs"])
def test_a_store_that_is_a_file_is_exit_2_in_one_line(project: Path, command: str) -> None:
    (project / "afile").write_text("")
    args = ["runner-tiny", "--pipelines", TINY] if command == "run" else []

    result = ferry(command, *args, "--store", "afile", cwd=project)

    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"ferry: --store {project}/afile: cannot use it as the store folder (it is a file); "
        f"{STORE_FOLDER_HINT}\n",
    )
    assert not (project / "out").exists()


def test_a_store_that_cannot_be_created_is_exit_2_before_any_step(project: Path) -> None:
    result = ferry(
        "run", "runner-tiny", "--pipelines", TINY, "--store", "/proc/nope/store", cwd=project
    )

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: --store /proc/nope/store: cannot use it as the store folder "
        f"(No such file or directory); {STORE_FOLDER_HINT}\n",
    )
    assert not (project / "out").exists()


@pytest.mark.parametrize("command", ["run", "runs"])
def test_an_unreachable_s3_store_is_exit_2_in_one_line(project: Path, command: str) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    env.pop("AWS_ENDPOINT_URL_S3", None)
    args = ["runner-tiny", "--pipelines", TINY] if command == "run" else []

    result = subprocess.run(
        [*FERRY, command, *args, "--store", "s3://b/p"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(
        "ferry: --store s3://b/p: cannot reach it at http://127.0.0.1:1 ("
    )
    assert result.stderr.endswith(
        "); check AWS_ENDPOINT_URL, the AWS_* credentials and that the service is up\n"
    )
    assert result.stderr.count("\n") == 1


def test_ferry_runs_lists_the_other_runs_and_names_a_damaged_record(project: Path) -> None:
    from workflows.runner import RunRecord

    good = RunRecord(
        run_id="demo-good1",
        pipeline="demo",
        source="demo",
        store=str(project / "store"),
        parameters={},
        started=datetime(2026, 11, 1, tzinfo=UTC),
        tasks=[],
    )
    runs = project / "store" / "runs" / "demo"
    (runs / "demo-good1").mkdir(parents=True)
    (runs / "demo-good1" / "run.json").write_text(good.model_dump_json())
    (runs / "demo-bad22").mkdir()
    (runs / "demo-bad22" / "run.json").write_text('{"run_id": "demo-bad22", ')

    result = ferry("runs", "--store", "store", "--output", "json", cwd=project)

    assert result.returncode == 0
    assert [r["run_id"] for r in json.loads(result.stdout)] == ["demo-good1"]
    assert result.stderr == (
        f"ferry: {runs}/demo-bad22/run.json: damaged run record, skipped "
        "(Invalid JSON: EOF while parsing a value at line 1 column 25); fix or delete the file\n"
    )


def test_a_manifest_that_is_not_yaml_is_one_line_and_exit_2(project: Path) -> None:
    (project / "broken.yaml").write_text("a: [\n")

    result = ferry("run", "--manifest", "broken.yaml", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: --manifest broken.yaml: not valid YAML at line 2, column 1 "
        "(expected the node content, but found '<stream end>'); "
        "fix the file or render it again with ferry render\n",
    )


def test_a_cron_workflow_points_to_its_workflow_template(project: Path) -> None:
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "x"},
        "spec": {
            "schedules": ["0 2 * * *"],
            "workflowSpec": {"workflowTemplateRef": {"name": "x"}},
        },
    }
    (project / "cronworkflow.yaml").write_text(yaml.safe_dump(cron))

    result = ferry("run", "--manifest", "cronworkflow.yaml", cwd=project)

    assert (result.returncode, result.stderr) == (
        2,
        "ferry: cronworkflow.yaml: the local runner refuses this manifest: kind: a CronWorkflow "
        "is run through its WorkflowTemplate; run the workflowtemplate.yaml (or workflow.yaml) "
        "rendered next to it instead\n",
    )


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ('a"b', '"'),
        ("a\\b", "\\"),
        ('"\\', '" and \\'),
        ("2026-11-01\n", "a newline"),
        ("a\r\nb", "a newline and a carriage return"),
        ("a\tb\x01", "the control character U+0001 and a tab"),
    ],
)
def test_a_p_value_spliced_into_a_config_is_refused_up_front(
    project: Path, tiny_workflow: dict, value: str, found: str
) -> None:
    """A hand-written manifest that splices a parameter into --config cannot take such values."""
    for template in tiny_workflow["spec"]["templates"]:
        args = template.get("container", {}).get("args", [])
        template.get("container", {})["args"] = [
            a.replace("${param:data_dir}", "{{workflow.parameters.data_dir}}") for a in args
        ]
    (project / "workflow.yaml").write_text(yaml.safe_dump(tiny_workflow))

    result = ferry(
        "run", "--manifest", "workflow.yaml", "-p", f"data_dir={value}", "--store", "s", cwd=project
    )

    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"ferry: -p data_dir: the value contains {found}, which parameter values must not "
        "contain (the manifest inserts it verbatim into a step's --config); remove them, or "
        "render the pipeline again so parameters reach the steps as variables\n",
    )
    assert not (project / "s").exists()


def test_a_rendered_pipeline_takes_any_p_value_exactly(project: Path, tiny_workflow: dict) -> None:
    (project / "workflow.yaml").write_text(yaml.safe_dump(tiny_workflow))
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "people.csv").write_text("id,name\n1,Ada\n")
    odd = 'out "quoted" \\ dir'
    result = ferry(
        "run", "--manifest", "workflow.yaml", "-p", "data_dir=data", "-p", f"output_dir={odd}",
        "--store", "s", cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (project / odd / "people").is_dir()
