"""Reading a manifest's exit handler, its timed hooks and its ``resource`` templates.

Argo runs ``spec.hooks.exit`` (or the older ``spec.onExit``) once the main DAG has
finished, with ``{{workflow.status}}``, ``{{workflow.failures}}`` and
``{{workflow.duration}}`` set, and every other ``spec.hooks.<name>`` when its
``expression`` holds while the workflow runs (workflow/controller/hooks.go). This
module checks those parts and turns them into the plan's
:class:`~workflows.runner.manifest.ExitHandler` and
:class:`~workflows.runner.manifest.TimedHook` values; :mod:`workflows.runner.exit_run`
executes them.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from workflows.graph import find_cycle
from workflows.runner import conditions, scopes
from workflows.runner.errors import Problems
from workflows.runner.manifest import (
    ContainerTemplate,
    CreateWorkflow,
    ExitHandler,
    ExitTask,
    Task,
    TimedHook,
)

EXIT = "exit"
"""The ``spec.hooks`` key of the exit handler."""

EXIT_VARIABLES = frozenset({"workflow.status", "workflow.duration", "workflow.failures"})
"""What Argo adds to the scope of the exit handler's templates."""

HOOK_VARIABLES = frozenset({"workflow.status", "workflow.duration"})
"""What Argo adds to the scope of a running workflow's hook templates."""

_HOOK_FIELDS = frozenset({"template", "expression"})
_EXIT_TASK_FIELDS = frozenset({"name", "template", "dependencies", "arguments", "when"})


def exit_template_name(spec: Mapping[str, Any]) -> str | None:
    """The template of the exit handler: ``spec.hooks.exit.template``, else ``spec.onExit``."""
    hooks = spec.get("hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get(EXIT), dict):
        return str(hooks[EXIT].get("template"))
    on_exit = spec.get("onExit")
    return str(on_exit) if on_exit else None


def hook_scopes(
    spec: Mapping[str, Any], templates: Iterable[Mapping[str, Any]]
) -> dict[str, frozenset[str]]:
    """Template name -> the variables Argo adds to it as a hook or exit-handler template."""
    extra: dict[str, frozenset[str]] = {}
    by_name = {str(t.get("name")): t for t in templates}
    exit_name = exit_template_name(spec)
    if exit_name is not None:
        extra[exit_name] = EXIT_VARIABLES
        exit_template = by_name.get(exit_name) or {}
        for raw in ((exit_template.get("dag") or {}).get("tasks")) or []:
            extra[str(raw.get("template"))] = EXIT_VARIABLES
    hooks = spec.get("hooks")
    for name, hook in hooks.items() if isinstance(hooks, dict) else []:
        if name != EXIT and isinstance(hook, dict):
            template = str(hook.get("template"))
            extra[template] = extra.get(template, frozenset()) | HOOK_VARIABLES
    return extra


def create_workflow(template: Mapping[str, Any], path: str, found: Problems) -> CreateWorkflow:
    """A ``resource`` template: only ``action: create`` of a Workflow from a WorkflowTemplate."""
    name = str(template.get("name"))
    resource = template.get("resource") or {}
    where = f"{path}.resource"
    if resource.get("action") != "create":
        found.add(
            f"{where}.action",
            f"{resource.get('action')!r} is not supported by the local runner; only create",
        )
    try:
        manifest = yaml.safe_load(str(resource.get("manifest") or ""))
    except yaml.YAMLError:
        manifest = None
    document: dict[str, Any] = manifest if isinstance(manifest, dict) else {}
    spec = document.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    reference = spec.get("workflowTemplateRef")
    if (
        document.get("kind") != "Workflow"
        or not isinstance(reference, dict)
        or not reference.get("name")
        or set(spec) - {"workflowTemplateRef", "arguments"}
    ):
        found.add(
            f"{where}.manifest",
            "the local runner creates only a Workflow whose spec is a workflowTemplateRef "
            "with arguments (a dependency trigger)",
        )
        return CreateWorkflow(name, "", {}, {})
    parameters = {
        str(p.get("name")): str(p.get("value", ""))
        for p in (spec.get("arguments") or {}).get("parameters") or []
    }
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    return CreateWorkflow(
        name, str(reference["name"]), parameters, {str(k): str(v) for k, v in annotations.items()}
    )


def timed_hooks(
    spec: Mapping[str, Any], containers: Mapping[str, ContainerTemplate], found: Problems
) -> tuple[TimedHook, ...]:
    """Every ``spec.hooks`` entry but ``exit``: a container template and a duration expression."""
    hooks = spec.get("hooks")
    if hooks is None:
        return ()
    if not isinstance(hooks, dict):
        found.add("spec.hooks", "must be a mapping of hook name -> hook")
        return ()
    result = []
    for name, hook in hooks.items():
        path = f"spec.hooks.{name}"
        if not isinstance(hook, dict):
            found.add(path, "must be a mapping with template (and expression)")
            continue
        for key in set(hook) - _HOOK_FIELDS:
            found.add(f"{path}.{key}", "not supported by the local runner")
        if name == EXIT:
            continue
        template = str(hook.get("template"))
        if template not in containers:
            found.add(f"{path}.template", f"{template!r} must name a container template")
        seconds = conditions.duration_hook_seconds(hook.get("expression"))
        if seconds is None:
            found.add(
                f"{path}.expression",
                f"{hook.get('expression')!r} is not supported by the local runner; use "
                f"{conditions.HOOK_SUBSET}",
            )
            continue
        result.append(TimedHook(str(name), template, seconds))
    return tuple(result)


def exit_handler(
    spec: Mapping[str, Any],
    templates: list[dict[str, Any]],
    containers: Mapping[str, ContainerTemplate],
    resources: Mapping[str, CreateWorkflow],
    parameter_names: set[str],
    found: Problems,
) -> ExitHandler | None:
    """The exit handler: a dag template of container and resource tasks, or one container."""
    name = exit_template_name(spec)
    if name is None:
        return None
    if "onExit" in spec and isinstance(spec.get("hooks"), dict) and EXIT in spec["hooks"]:
        found.add("spec.onExit", "set either spec.onExit or spec.hooks.exit, not both")
    where = "spec.hooks.exit.template" if "onExit" not in spec else "spec.onExit"
    if name in containers:
        return ExitHandler(name, (ExitTask(Task(name, name, (), {}), None),), {})
    index = next((i for i, t in enumerate(templates) if t.get("name") == name), None)
    if index is None or "dag" not in templates[index]:
        found.add(where, f"{name!r} must name a dag or container template")
        return None
    tasks = _exit_tasks(templates[index], index, containers, resources, parameter_names, found)
    used = {t.task.template for t in tasks}
    return ExitHandler(name, tasks, {k: v for k, v in resources.items() if k in used})


def _exit_tasks(
    template: dict[str, Any],
    index: int,
    containers: Mapping[str, ContainerTemplate],
    resources: Mapping[str, CreateWorkflow],
    parameter_names: set[str],
    found: Problems,
) -> tuple[ExitTask, ...]:
    raw_tasks = template["dag"].get("tasks") or []
    names = [str(t.get("name")) for t in raw_tasks]
    scope = scopes.workflow_scope(parameter_names) | EXIT_VARIABLES
    tasks = []
    for position, raw in enumerate(raw_tasks):
        path = f"spec.templates[{index}].dag.tasks[{position}]"
        for key in sorted(set(raw) - _EXIT_TASK_FIELDS):
            found.add(f"{path}.{key}", "not supported in an exit handler by the local runner")
        target = str(raw.get("template"))
        if target not in containers and target not in resources:
            found.add(
                f"{path}.template",
                f"{target!r} must name a container or resource template in an exit handler",
            )
        dependencies = tuple(str(d) for d in raw.get("dependencies") or [])
        for dependency in dependencies:
            if dependency not in names:
                found.add(path, f"depends on unknown task {dependency!r}")
        when = raw.get("when")
        if when is not None:
            problem = conditions.when_problem(when)
            if problem:
                found.add(f"{path}.when", problem)
        scopes.check_tags(raw, path, scope, found)
        arguments = {
            str(p.get("name")): str(p.get("value", ""))
            for p in (raw.get("arguments") or {}).get("parameters") or []
        }
        task = Task(str(raw.get("name")), target, dependencies, arguments)
        tasks.append(ExitTask(task, None if when is None else str(when)))
    cycle = find_cycle({t.task.name: t.task.dependencies for t in tasks})
    if cycle is not None:
        found.add(
            f"spec.templates[{index}].dag",
            f"tasks form a cycle: {' -> '.join(reversed(cycle))}; break it",
        )
    return tuple(tasks)


def check_names(
    handler: ExitHandler | None, hooks: tuple[TimedHook, ...], main: set[str]
) -> list[str]:
    """Task names of hooks and the exit handler that repeat a main task's (the record keys)."""
    problems = []
    names = [t.task.name for t in handler.tasks] if handler else []
    names += [h.name for h in hooks]
    for name in names:
        if name in main or names.count(name) > 1:
            problems.append(
                f"spec.hooks: task or hook {name!r} repeats another task's name; the local run "
                "record keeps one entry per name"
            )
    return list(dict.fromkeys(problems))
