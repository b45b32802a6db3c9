"""The exit handler of a rendered workflow: dependency triggers (and alerts) after the run.

Argo runs ``spec.hooks.exit`` once the main DAG has finished, whatever its outcome,
with ``{{workflow.status}}``, ``{{workflow.duration}}`` and ``{{workflow.failures}}``
set (workflow/controller/operator.go). Ferry renders one DAG template,
``exit-handler``, whose tasks are:

- per pipeline that runs after this one (``AfterPipeline``), a task
  ``when: "{{workflow.status}} == Succeeded"`` running a ``resource`` template that
  creates a Workflow from the downstream's WorkflowTemplate (``workflowTemplateRef``),
  its parameters taken from this run's (the chart's Role grants ``workflows: create``);
- the pipeline's alerts (:mod:`workflows.render.alerts`).

A pipeline with neither gets no exit handler at all. Other workflow-level hooks
(the SLA alert's) come beside ``exit`` in ``spec.hooks``.
"""

from dataclasses import dataclass, field
from typing import Any

import yaml

from steps.contract import PIPELINE_LABEL
from workflows.pipeline import Pipeline
from workflows.triggers import AfterPipeline

EXIT_TEMPLATE = "exit-handler"
"""Name of the exit handler's DAG template."""

EXIT_HOOK = "exit"
"""``spec.hooks`` key of the exit handler."""

SUCCEEDED = "{{workflow.status}} == Succeeded"
"""``when`` of a dependency trigger: only after a run that succeeded."""

TRIGGERED_BY_ANNOTATION = "ferry.dev/triggered-by"
"""Annotation of a triggered Workflow: the run (workflow name) that created it."""

TRIGGER_PREFIX = "trigger-"
"""Prefix of a dependency trigger's task and template name: ``trigger-<downstream>``."""


@dataclass
class ExitParts:
    """What a pipeline's exit handler and hooks add to the workflow spec."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    """Tasks of the ``exit-handler`` DAG."""
    templates: list[dict[str, Any]] = field(default_factory=list)
    """Templates the tasks and hooks run."""
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Workflow-level hooks other than ``exit`` (name -> template and expression)."""


def trigger_name(downstream: str) -> str:
    """Task and template name of the dependency trigger that starts ``downstream``."""
    return TRIGGER_PREFIX + downstream


def created_workflow(upstream: Pipeline, downstream: str, trigger: AfterPipeline) -> str:
    """The Workflow manifest (YAML text) the trigger's resource template creates."""
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{downstream}-",
            "labels": {"app.kubernetes.io/part-of": "ferry", PIPELINE_LABEL: downstream},
            "annotations": {TRIGGERED_BY_ANNOTATION: "{{workflow.name}}"},
        },
        "spec": {
            "workflowTemplateRef": {"name": downstream},
            "arguments": {
                "parameters": [
                    {"name": own, "value": "{{workflow.parameters." + theirs + "}}"}
                    for own, theirs in trigger.parameters.items()
                ]
            },
        },
    }
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=1_000_000)


def dependency_trigger_parts(
    upstream: Pipeline, dependents: list[tuple[str, AfterPipeline]]
) -> ExitParts:
    """One task and resource template per pipeline that runs after ``upstream``."""
    parts = ExitParts()
    for downstream, trigger in dependents:
        name = trigger_name(downstream)
        parts.tasks.append({"name": name, "template": name, "when": SUCCEEDED})
        parts.templates.append(
            {
                "name": name,
                "resource": {
                    "action": "create",
                    "manifest": created_workflow(upstream, downstream, trigger),
                },
            }
        )
    return parts


def add_exit_handler(document: dict[str, Any], parts: ExitParts) -> dict[str, Any]:
    """Add the exit handler DAG, its templates and the hooks to a rendered workflow spec."""
    if not parts.tasks and not parts.hooks:
        return document
    spec = document["spec"]
    hooks: dict[str, dict[str, Any]] = {}
    if parts.tasks:
        spec["templates"].append({"name": EXIT_TEMPLATE, "dag": {"tasks": parts.tasks}})
        hooks[EXIT_HOOK] = {"template": EXIT_TEMPLATE}
    spec["templates"].extend(parts.templates)
    spec["hooks"] = {**hooks, **parts.hooks}
    return document
