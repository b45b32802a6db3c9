"""Which Argo variables are in scope where in a manifest, and the check of every tag against it.

Argo resolves a tag by where it appears: the workflow globals and parameters
everywhere; ``inputs.parameters.*``, ``pod.name`` and ``retries`` inside a container
template; ``tasks.T.outputs.parameters.P`` in the arguments of a task downstream of
``T``; only the globals in ``spec.arguments.parameters`` values; in ``metrics`` the
metric variables Argo adds there (``status``, ``duration``, the template's own
``outputs.parameters.*``; ``workflow.status`` and ``workflow.duration`` at workflow
level), though the runner never evaluates metrics. Every tag is checked
against the scope of its place before anything runs, so substitution
(:mod:`workflows.runner.variables`) never meets an unknown name.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from workflows.graph import upstream_of
from workflows.runner import variables
from workflows.runner.errors import Problems
from workflows.runner.manifest import ContainerTemplate, Task, dependency_graph

GLOBALS = frozenset(
    {"workflow.name", "workflow.namespace", "workflow.uid", "workflow.scheduledTime"}
)
"""The ``workflow.*`` variables the runner provides besides parameters and timestamps."""

Scope = frozenset[str]


def parameter_value_scope() -> Scope:
    """What a ``spec.arguments.parameters`` value may use: the globals and timestamps."""
    return GLOBALS | variables.creation_timestamp_names()


def workflow_scope(parameter_names: Iterable[str]) -> Scope:
    """What any template or spec field may use: the above and ``workflow.parameters.*``."""
    return parameter_value_scope() | {f"workflow.parameters.{p}" for p in parameter_names}


def container_scope(parameter_names: Iterable[str], input_names: Iterable[str]) -> Scope:
    """What a container template may use: the workflow scope, its inputs, pod name, retries."""
    return (
        workflow_scope(parameter_names)
        | {f"inputs.parameters.{p}" for p in input_names}
        | {"pod.name", "retries"}
    )


TEMPLATE_METRIC_VARIABLES = frozenset(
    {"status", "duration", "exitCode", "outputs.result", "retries"}
    | {"resourcesDuration.cpu", "resourcesDuration.memory"}
)
"""What Argo adds to a template's ``metrics`` (docs/variables.md, "Metrics")."""

WORKFLOW_METRIC_VARIABLES = frozenset({"workflow.status", "workflow.duration"})
"""What a workflow's ``spec.metrics`` may use besides the workflow scope: Argo sets both
when the workflow completes, before it evaluates these metrics."""


def template_metrics_scope(
    parameter_names: Iterable[str], input_names: Iterable[str], output_names: Iterable[str]
) -> Scope:
    """What a container template's ``metrics`` may use: its scope, metric variables, outputs."""
    return (
        container_scope(parameter_names, input_names)
        | TEMPLATE_METRIC_VARIABLES
        | {f"outputs.parameters.{p}" for p in output_names}
    )


def workflow_metrics_scope(parameter_names: Iterable[str]) -> Scope:
    """What ``spec.metrics`` may use: the workflow scope and ``workflow.status``/``duration``."""
    return workflow_scope(parameter_names) | WORKFLOW_METRIC_VARIABLES


def task_scopes(
    tasks: tuple[Task, ...],
    containers: Mapping[str, ContainerTemplate],
    parameter_names: Iterable[str],
) -> dict[str, Scope]:
    """What each DAG task may use: the workflow scope and the outputs of the tasks upstream of it.

    Upstream means reached through ``dependencies``/``depends``, directly or not. A
    task that fans out (``withItems``/``withParam``) offers no outputs of its own.
    """
    graph = dependency_graph(tasks)
    by_name = {t.name: t for t in tasks}
    base = workflow_scope(parameter_names)
    scopes = {}
    for task in graph:
        scope = set(base)
        for name in upstream_of(graph, graph[task]):
            upstream = by_name.get(name)
            if upstream is not None and upstream.fanout is not None:
                continue  # its children have outputs; the fanned-out task has none of its own
            template = containers.get(upstream.template) if upstream else None
            for output in template.outputs if template else ():
                scope.add(f"tasks.{name}.outputs.parameters.{output.name}")
        scopes[task] = frozenset(scope)
    return scopes


def check_parameter_value(value: object, path: str, found: Problems) -> None:
    """Refuse a variable a ``spec.arguments.parameters`` value uses that is not in its scope."""
    if not isinstance(value, str):
        return
    scope = parameter_value_scope()
    for name in variables.tags(value):
        if name not in scope:
            found.add(path, f"unknown variable {{{{{name}}}}}")


def check_spec(spec: Mapping[str, Any], parameter_names: Iterable[str], found: Problems) -> None:
    """Check the tags of every ``spec`` field outside the templates and the arguments."""
    scope = workflow_scope(parameter_names)
    for key, value in spec.items():
        if key == "metrics":
            check_tags(value, "spec.metrics", workflow_metrics_scope(parameter_names), found)
        elif key not in ("templates", "arguments"):
            check_tags(value, f"spec.{key}", scope, found)


def check_tags(value: object, path: str, scope: Scope, found: Problems) -> None:
    """Refuse every tag in ``value`` (walked through mappings and lists) outside ``scope``.

    Expression tags (``{{=...}}``) are refused wherever they are.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            check_tags(item, f"{path}.{key}", scope, found)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            check_tags(item, f"{path}[{position}]", scope, found)
    elif isinstance(value, str):
        for name in variables.tags(value):
            if name.startswith("="):
                found.add(
                    path, f"expression tag {{{{{name}}}}} is not supported by the local runner"
                )
            elif name not in scope:
                found.add(path, f"unknown variable {{{{{name}}}}}")
