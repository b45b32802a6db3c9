"""Alerts: validation, and their rendering as notify tasks of the exit handler and an SLA hook."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pipeline_fakes import minimal

from workflows import Alert, SecretRef
from workflows.errors import DefinitionError
from workflows.render import render_pipeline, write_files
from workflows.runner.conditions import duration_hook_seconds
from workflows.validation import validate_pipeline

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
TOOL = HERE.parents[2] / "shared" / "tools" / "argo-conformance"
HOOK = SecretRef(name="ferry-alerts", key="webhook-url")


def alerted() -> Any:
    return minimal(
        name="alerted",
        alerts=[
            Alert(
                on="failure",
                webhook_secret=HOOK,
                format="slack",
                link_base="https://argo.example.com/workflows/etl/",
            ),
            Alert(on="quality", threshold=0.98, webhook_secret=HOOK),
            Alert(on="sla", threshold=5400, webhook_secret=HOOK, webhook_env="SLA_WEBHOOK_URL"),
            Alert(on="rejected_share", threshold=0.01, webhook_secret=HOOK),
            Alert(on="failure", webhook_secret=SecretRef(name="pager", key="url")),
        ],
    )


def templates(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in spec["templates"]}


def config_of(template: dict[str, Any]) -> dict[str, Any]:
    args = template["container"]["args"]
    return dict(json.loads(args[args.index("--config") + 1]))


def test_the_rendered_alerts_match_the_golden_files() -> None:
    rendered = render_pipeline(alerted())
    if os.environ.get("REGENERATE") == "1" and not os.environ.get("CI"):
        write_files(rendered, GOLDEN)
    expected = {p.name: p.read_text() for p in sorted((GOLDEN / "alerted").glob("*"))}
    assert rendered.files() == expected, "REGENERATE=1 pytest tests/workflows/test_alerts.py"


def test_alerts_are_exit_handler_tasks_and_the_sla_alert_a_hook() -> None:
    spec = render_pipeline(alerted()).workflow["spec"]

    assert spec["hooks"] == {
        "exit": {"template": "exit-handler"},
        "alert-sla": {
            "template": "alert-sla",
            "expression": 'workflow.status == "Running" && asFloat(workflow.duration) > 5400',
        },
    }
    assert duration_hook_seconds(spec["hooks"]["alert-sla"]["expression"]) == 5400
    assert templates(spec)["exit-handler"]["dag"]["tasks"] == [
        {"name": "alert-failure", "template": "alert-failure", "when": NOT_SUCCEEDED},
        {"name": "alert-quality", "template": "alert-quality"},
        {"name": "alert-rejected-share", "template": "alert-rejected-share"},
        {"name": "alert-failure-2", "template": "alert-failure-2", "when": NOT_SUCCEEDED},
    ]


NOT_SUCCEEDED = "{{workflow.status}} != Succeeded"


def test_a_notify_task_has_the_contracts_config_and_the_webhook_from_its_secret() -> None:
    notify = templates(render_pipeline(alerted()).workflow["spec"])["alert-failure"]

    args = notify["container"]["args"]
    assert notify["container"]["command"] == ["python", "-m", "steps"]
    assert args[:9] == [
        "notify",
        "--pipeline",
        "alerted",
        "--step",
        "alert-failure",
        "--run-id",
        "{{workflow.name}}",
        "--store",
        "{{workflow.parameters.store}}",
    ]
    assert "--output" not in args
    assert config_of(notify) == {
        "alert": "failure",
        "webhook_env": "FERRY_WEBHOOK_URL",
        "webhook_secret": {"name": "ferry-alerts", "key": "webhook-url"},
        "format": "slack",
        "workflow_status": "${param:workflow_status}",
        "failures": "${param:workflow_failures}",
        "duration_seconds": "${param:workflow_duration}",
        "threshold": None,
        "link": "https://argo.example.com/workflows/etl/{{workflow.name}}",
        "timeout_seconds": 10,
        "max_attempts": 3,
    }
    env = {e["name"]: e for e in notify["container"]["env"]}
    assert env["FERRY_PARAM_workflow_status"] == {
        "name": "FERRY_PARAM_workflow_status",
        "value": "{{workflow.status}}",
    }
    assert env["FERRY_PARAM_workflow_failures"]["value"] == "{{workflow.failures}}"
    assert env["FERRY_PARAM_workflow_duration"]["value"] == "{{workflow.duration}}"
    assert env["FERRY_WEBHOOK_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "ferry-alerts", "key": "webhook-url"}
    }
    assert "AWS_ACCESS_KEY_ID" in env  # it reads the run's artifacts from the store


def test_the_sla_hook_gets_no_failures_and_its_own_webhook_variable() -> None:
    sla = templates(render_pipeline(alerted()).workflow["spec"])["alert-sla"]

    assert config_of(sla)["failures"] == ""
    assert config_of(sla)["threshold"] == 5400
    env = {e["name"] for e in sla["container"]["env"]}
    assert "FERRY_PARAM_workflow_failures" not in env
    assert "SLA_WEBHOOK_URL" in env


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        (
            {"on": "failure", "threshold": 0.5},
            "field 'alerts[0].threshold': a failure alert has no threshold; remove it",
        ),
        ({"on": "sla"}, "field 'alerts[0].threshold': a sla alert needs a threshold"),
        (
            {"on": "quality", "threshold": 98},
            "field 'alerts[0].threshold': 98.0 is a share and must be within 0..1",
        ),
        (
            {"on": "sla", "threshold": 0},
            "field 'alerts[0].threshold': 0.0 must be a positive number of seconds",
        ),
        (
            {"on": "failure", "webhook_env": "webhook"},
            "field 'alerts[0].webhook_env': 'webhook' is not an environment variable name of "
            "upper-case letters, digits and '_' outside FERRY_PARAM_*",
        ),
        (
            {"on": "failure", "webhook_env": "FERRY_PARAM_URL"},
            "field 'alerts[0].webhook_env': 'FERRY_PARAM_URL' is not an environment variable "
            "name of upper-case letters, digits and '_' outside FERRY_PARAM_*",
        ),
    ],
)
def test_bad_alerts_are_refused(alert: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_pipeline(minimal(alerts=[Alert(webhook_secret=HOOK, **alert)]))

    assert str(caught.value) == f"pipeline 'p', {message}"


def test_a_quality_alert_needs_a_checks_step() -> None:
    pipeline = minimal(checks=[], alerts=[Alert(on="quality", threshold=0.9, webhook_secret=HOOK)])

    with pytest.raises(DefinitionError) as caught:
        validate_pipeline(pipeline)

    assert str(caught.value) == (
        "pipeline 'p', field 'alerts[0].on': a quality alert needs a Checks step in the "
        "pipeline; add one"
    )


def test_an_alert_named_like_a_step_is_refused() -> None:
    from pipeline_fakes import FakeLoad

    from workflows import Target

    pipeline = minimal(
        targets=[Target(name="alert-failure", input="orders-checked", config=FakeLoad(path="o"))],
        alerts=[Alert(on="failure", webhook_secret=HOOK)],
    )

    with pytest.raises(DefinitionError) as caught:
        validate_pipeline(pipeline)

    assert str(caught.value) == (
        "pipeline 'p', field 'alerts[0].on': the alert's task 'alert-failure' has the name of "
        "a step; rename the step"
    )


@pytest.mark.skipif(not TOOL.is_file(), reason=f"{TOOL} is absent")
def test_the_rendered_alerts_pass_argo_conformance(tmp_path: Path) -> None:
    write_files(render_pipeline(alerted()), tmp_path)

    result = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path)], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
