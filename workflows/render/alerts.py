"""A pipeline's alerts as ``notify`` tasks of the exit handler, the SLA alert as a hook.

Each alert runs ``python -m steps notify`` of the step image with the usual step
arguments and a ``NotifyConfig`` (``steps.notify.config``), whose fields are written
here one by one. Argo's ``{{workflow.status}}``, ``{{workflow.failures}}`` and
``{{workflow.duration}}`` reach the config as ``${param:...}`` placeholders filled
from ``FERRY_PARAM_workflow_*`` variables, as workflow parameters do
(``steps.runtime.parameters``): ``workflow.failures`` is JSON and would break the
``--config`` JSON if Argo spliced it in as text. The webhook URL comes from the
alert's Secret through ``valueFrom.secretKeyRef`` into ``webhook_env``.

- failure: an exit-handler task with ``when: "{{workflow.status}} != Succeeded"``;
- quality, rejected_share: exit-handler tasks (the step reads the run's artifacts);
- sla: ``spec.hooks.<name>`` with the expression
  ``workflow.status == "Running" && asFloat(workflow.duration) > N``, evaluated by Argo
  on each reconciliation while the workflow runs (``workflow.duration`` is a global
  runtime variable there, a float string; ``asFloat`` is expr's ``float``).
"""

import json
from typing import Any

from hera.workflows import Container, EmptyDirVolume, Env, Parameter, SecretEnv
from hera.workflows import models as m

from steps.contract import DEFAULT_OUTPUTS_DIR, STEP_COMMAND, STEP_LABEL
from steps.runtime.parameters import env_name, placeholder
from workflows.alerts import Alert, alert_names
from workflows.pipeline import Pipeline
from workflows.render.exit_handler import ExitParts
from workflows.render.manifests import RUN_ID, STORE, build_security_context, store_env

NOTIFY_KIND = "notify"
"""The step kind every alert task runs."""

NOT_SUCCEEDED = "{{workflow.status}} != Succeeded"
"""``when`` of a failure alert: no pod after a run that succeeded."""

NOTIFY_DEADLINE_SECONDS = 300
"""Deadline of one notify attempt: its POSTs are bounded far below (timeout x attempts)."""

WORKFLOW_STATUS = "workflow_status"
WORKFLOW_FAILURES = "workflow_failures"
WORKFLOW_DURATION = "workflow_duration"
"""Names of the placeholders (``FERRY_PARAM_<name>``) carrying Argo's exit variables."""

_ARGO_VARIABLE = {
    WORKFLOW_STATUS: "{{workflow.status}}",
    WORKFLOW_FAILURES: "{{workflow.failures}}",
    WORKFLOW_DURATION: "{{workflow.duration}}",
}


def duration_hook_expression(seconds: float) -> str:
    """The hook expression that holds once a running workflow is older than ``seconds``."""
    number = f"{seconds:f}".rstrip("0").rstrip(".")
    return f'workflow.status == "Running" && asFloat(workflow.duration) > {number}'


def notify_config(alert: Alert, *, exit_handler: bool) -> dict[str, Any]:
    """The ``NotifyConfig`` of one alert, field by field in the contract's order."""
    return {
        "alert": alert.on,
        "webhook_env": alert.webhook_env,
        "webhook_secret": alert.webhook_secret.model_dump(mode="json"),
        "format": alert.format,
        "workflow_status": placeholder(WORKFLOW_STATUS),
        "failures": placeholder(WORKFLOW_FAILURES) if exit_handler else "",
        "duration_seconds": placeholder(WORKFLOW_DURATION),
        "threshold": alert.threshold,
        "link": f"{alert.link_base.rstrip('/')}/{RUN_ID}" if alert.link_base else "",
        "timeout_seconds": alert.timeout_seconds,
        "max_attempts": alert.max_attempts,
    }


def _notify_template(
    pipeline: Pipeline, alert: Alert, name: str, *, exit_handler: bool
) -> dict[str, Any]:
    config = json.dumps(
        notify_config(alert, exit_handler=exit_handler), separators=(",", ":"), ensure_ascii=False
    )
    carried = [WORKFLOW_STATUS, WORKFLOW_DURATION]
    if exit_handler:
        carried.insert(1, WORKFLOW_FAILURES)
    env: list[Any] = store_env()
    env += [Env(name=env_name(p), value=_ARGO_VARIABLE[p]) for p in carried]
    env.append(
        SecretEnv(
            name=alert.webhook_env,
            secret_name=alert.webhook_secret.name,
            secret_key=alert.webhook_secret.key,
        )
    )
    container = Container(
        name=name,
        image=pipeline.image,
        image_pull_policy=pipeline.image_pull_policy,
        command=list(STEP_COMMAND),
        args=[
            NOTIFY_KIND,
            "--pipeline",
            pipeline.name,
            "--step",
            name,
            "--run-id",
            RUN_ID,
            "--store",
            STORE,
            "--config",
            config,
        ],
        env=env,
        security_context=build_security_context(),
        volumes=[EmptyDirVolume(name="tmp", mount_path="/tmp", size_limit=m.Quantity(root="1Gi"))],
        outputs=[
            Parameter(
                name="warning",
                value_from=m.ValueFrom(path=f"{DEFAULT_OUTPUTS_DIR}/warning", default=""),
            )
        ],
        active_deadline_seconds=NOTIFY_DEADLINE_SECONDS,
        labels={STEP_LABEL: name},
    )
    template = container._build_template()  # Hera's own builder of a container template
    document: dict[str, Any] = template.model_dump(exclude_none=True, by_alias=True)
    document["pendingTimeout"] = pipeline.pending_timeout
    return document


def alert_parts(pipeline: Pipeline) -> ExitParts:
    """Exit-handler tasks, templates and hooks of the pipeline's alerts."""
    parts = ExitParts()
    for alert, name in zip(pipeline.alerts, alert_names(pipeline), strict=True):
        in_exit_handler = alert.on != "sla"
        parts.templates.append(
            _notify_template(pipeline, alert, name, exit_handler=in_exit_handler)
        )
        if alert.on == "sla":
            assert alert.threshold is not None  # checked by workflows.alerts.check_alerts
            parts.hooks[name] = {
                "template": name,
                "expression": duration_hook_expression(alert.threshold),
            }
            continue
        task: dict[str, Any] = {"name": name, "template": name}
        if alert.on == "failure":
            task["when"] = NOT_SUCCEEDED
        parts.tasks.append(task)
    return parts
