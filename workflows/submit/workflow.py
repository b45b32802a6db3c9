"""The Workflow object a submission creates, built without contacting the cluster."""

from typing import Any

from workflows.errors import UsageError

TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"


def parse_parameters(items: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """Turn ``-p name=value`` options into ordered (name, value) pairs.

    Raises:
        UsageError: an item has no ``=`` or an empty name, or a name repeats.
    """
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-p {item!r} is not NAME=VALUE; write e.g. -p run_date=2026-11-01")
        if any(name == seen for seen, _ in pairs):
            raise UsageError(f"-p {name} is given twice; give each parameter once")
        pairs.append((name, value))
    return pairs


def build_workflow(
    template: str, parameters: list[tuple[str, str]], namespace: str
) -> dict[str, Any]:
    """The Workflow ``argo submit --from workflowtemplate/TEMPLATE -p ...`` creates.

    Argo's CLI builds it the same way: ``generateName: TEMPLATE-``, a
    ``workflowTemplateRef`` to the template, the ``workflow-template`` label that the
    Argo UI groups runs by, and the ``-p`` values as ``spec.arguments.parameters``.
    """
    spec: dict[str, Any] = {"workflowTemplateRef": {"name": template}}
    if parameters:
        spec["arguments"] = {
            "parameters": [{"name": name, "value": value} for name, value in parameters]
        }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{template}-",
            "namespace": namespace,
            "labels": {TEMPLATE_LABEL: template},
        },
        "spec": spec,
    }


def check_parameters(
    template: dict[str, Any], pipeline: str, namespace: str, names: list[str]
) -> None:
    """Refuse a parameter the installed WorkflowTemplate does not declare.

    Raises:
        UsageError: ``names`` has a parameter the template lacks (exit 2).
    """
    spec = template.get("spec") or {}
    arguments = (spec.get("arguments") if isinstance(spec, dict) else None) or {}
    known = [str(p.get("name")) for p in arguments.get("parameters") or []]
    for name in names:
        if name not in known:
            raise UsageError(
                f"-p {name}: WorkflowTemplate {pipeline!r} in namespace {namespace!r} has no "
                f"parameter {name!r}; it has: {', '.join(known) or 'none'}"
            )


def ui_link(ui_url: str, namespace: str, name: str) -> str:
    """The Argo UI page of one workflow: ``<ui>/workflows/<namespace>/<name>``."""
    return f"{ui_url.rstrip('/')}/workflows/{namespace}/{name}"
