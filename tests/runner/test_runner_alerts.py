"""Rendered alerts run by the local runner: notify tasks of the exit handler and the SLA hook.

The notify templates are the renderer's own; only their command becomes the stand-in
task (which records its argv and environment), so what is tested is what the runner
hands a ``notify`` step: its config, Argo's exit variables and the webhook URL.
"""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from runner_testkit import LAUNCH, TASK_SCRIPT, argv, container, run, statuses, workflow

from steps.extract.files.config import FilesExtract
from steps.load.parquet_dataset.config import ParquetDatasetLoad
from workflows import Alert, Pipeline, SecretRef, Source, Target
from workflows.errors import UsageError
from workflows.render.alerts import alert_parts
from workflows.render.exit_handler import add_exit_handler
from workflows.runner import RunStatus

WATCHED = ("FERRY_PARAM_workflow_status", "FERRY_PARAM_workflow_failures", "FERRY_WEBHOOK_URL")
URL = "http://127.0.0.1:9/hook-secret"


def alerted_pipeline(*alerts: Alert) -> Pipeline:
    return Pipeline(
        name="demo",
        steps=[
            Source(name="s", config=FilesExtract(path="in/*.csv", format="csv")),
            Target(name="t", input="s", config=ParquetDatasetLoad(path="out")),
        ],
        alerts=list(alerts),
    )


def as_stand_in(template: dict[str, Any]) -> dict[str, Any]:
    """The rendered notify template running the stand-in, which records argv and env."""
    stand_in = copy.deepcopy(template)
    rendered_args = template["container"]["args"]
    stand_in["container"]["command"] = ["python", "-c"]
    stand_in["container"]["args"] = [
        LAUNCH,
        str(TASK_SCRIPT),
        "--marks",
        "{{workflow.parameters.marks}}",
        "--name",
        template["name"],
        *[arg for name in WATCHED for arg in ("--env", name)],
        "--",
        *rendered_args,
    ]
    return stand_in


def manifest_with(main: list[dict[str, Any]], *alerts: Alert) -> dict[str, Any]:
    parts = alert_parts(alerted_pipeline(*alerts))
    parts.templates = [as_stand_in(t) for t in parts.templates]
    return add_exit_handler(workflow(main), parts)


def env_of(marks: Path, name: str) -> dict[str, str]:
    return dict(json.loads((marks / f"{name}.env.json").read_text()))


HOOK = SecretRef(name="ferry-alerts", key="url")


def test_a_failed_run_runs_the_failure_alert_with_argos_exit_variables(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRY_WEBHOOK_URL", URL)
    manifest = manifest_with(
        [container("a", "--exit", "3", "--message", "quality score 0.5 is below 0.95")],
        Alert(on="failure", webhook_secret=HOOK, link_base="https://ui.example/runs"),
    )

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.FAILED
    assert record.message == "step 'a': quality score 0.5 is below 0.95"
    assert statuses(record) == {"a": "Failed", "alert-failure": "Succeeded"}
    env = env_of(marks, "alert-failure")
    assert env["FERRY_PARAM_workflow_status"] == "Failed"
    assert env["FERRY_WEBHOOK_URL"] == URL
    (failure,) = json.loads(json.loads(env["FERRY_PARAM_workflow_failures"]))
    assert (failure["displayName"], failure["message"]) == ("a", "quality score 0.5 is below 0.95")
    args = argv(marks, "alert-failure")
    assert args[:6] == ["notify", "--pipeline", "demo", "--step", "alert-failure", "--run-id"]
    assert args[6] == record.run_id
    config = json.loads(args[args.index("--config") + 1])
    assert config["workflow_status"] == "${param:workflow_status}"
    assert config["link"] == f"https://ui.example/runs/{record.run_id}"
    assert URL not in json.dumps(record.model_dump(mode="json"))


def test_a_succeeded_run_skips_the_failure_alert_and_the_sla_alert_fires_while_running(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRY_WEBHOOK_URL", URL)
    manifest = manifest_with(
        [container("a", "--sleep", "3")],
        Alert(on="failure", webhook_secret=HOOK),
        Alert(on="sla", threshold=1, webhook_secret=HOOK),
    )

    record, _ = run(manifest, store, marks)

    assert record.status is RunStatus.SUCCEEDED
    assert statuses(record) == {
        "a": "Succeeded",
        "alert-sla": "Succeeded",
        "alert-failure": "Skipped",
    }
    assert env_of(marks, "alert-sla")["FERRY_PARAM_workflow_status"] == "Running"
    assert (marks / "alert-sla.start").read_text() < (marks / "a.end").read_text()


def test_an_unexported_webhook_variable_is_refused_before_anything_runs(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FERRY_WEBHOOK_URL", raising=False)
    manifest = manifest_with([container("a")], Alert(on="failure", webhook_secret=HOOK))

    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks)

    assert str(caught.value).endswith(
        "template alert-failure: env FERRY_WEBHOOK_URL (secret ferry-alerts/url) is not set; "
        "export it to run locally"
    )
    assert not marks.exists()
