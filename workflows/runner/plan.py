"""From a Workflow manifest (a dict) to a checked plan the scheduler can execute.

The plan is read from the manifest only. Every problem is collected (unsupported
fields, unknown variables, bad retry settings, cycles, ...) and raised together as
one :class:`ManifestRefused`, before any process starts.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from steps.contract import DEFAULT_OUTPUTS_DIR, PIPELINE_LABEL, STEP_COMMAND
from workflows.runner import variables
from workflows.runner.errors import ManifestRefused
from workflows.runner.retry import RetryPolicy, RetryStrategy, parse_duration
from workflows.runner.retry_expression import (
    SUPPORTED_FORMS,
    RetryExpression,
    UnsupportedExpression,
    parse_retry_expression,
)
from workflows.runner.support import unsupported_fields

API_VERSION = "argoproj.io/v1alpha1"
OUTPUTS_PREFIX = DEFAULT_OUTPUTS_DIR + "/"
EMPTY_DIR_MOUNT = "/tmp"
_DEPENDS_TERM = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)(\.Succeeded)?")
_GLOBALS = frozenset({"workflow.name", "workflow.namespace", "workflow.uid"})


@dataclass(frozen=True)
class WorkflowParameter:
    """One ``spec.arguments.parameters`` entry."""

    name: str
    value: str | None
    enum: tuple[str, ...] | None


@dataclass(frozen=True)
class EnvVar:
    """One container env entry: a plain value, or a secret/config map key read from the env."""

    name: str
    value: str | None
    source: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class OutputParameter:
    """An output parameter and the file (relative to the outputs folder) it is read from."""

    name: str
    file: str
    default: str | None


@dataclass(frozen=True)
class ContainerTemplate:
    """A container template reduced to what the runner executes."""

    name: str
    argv: tuple[str, ...]
    env: tuple[EnvVar, ...]
    inputs: dict[str, str | None]
    outputs: tuple[OutputParameter, ...]
    retry: RetryStrategy | None
    deadline_seconds: int | None


@dataclass(frozen=True)
class Task:
    """A DAG task: which template it runs, after which tasks, with which arguments."""

    name: str
    template: str
    dependencies: tuple[str, ...]
    arguments: dict[str, str]


@dataclass(frozen=True)
class Plan:
    """Everything the runner needs from one manifest, tasks in dependency order."""

    source: str
    pipeline: str
    generate_name: str
    parameters: tuple[WorkflowParameter, ...]
    tasks: tuple[Task, ...]
    templates: dict[str, ContainerTemplate]
    deadline_seconds: int | None
    parallelism: int | None


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")


def build_plan(
    manifest: dict[str, Any], *, source: str = "manifest", allow_inline_python: bool = False
) -> Plan:
    """Check ``manifest`` and turn it into a :class:`Plan`.

    Args:
        manifest: a ``Workflow`` (or ``WorkflowTemplate``, run as ``argo submit --from``).
        source: how to name the manifest in messages (a file path or pipeline name).
        allow_inline_python: also accept ``python -c <code>`` containers (tests only).

    Raises:
        ManifestRefused: with every problem found.
    """
    if manifest.get("kind") == "CronWorkflow":
        raise ManifestRefused(source, _cron_workflow_problems(manifest))
    problems = unsupported_fields(manifest)
    if problems:
        raise ManifestRefused(source, problems)
    found = _Problems()
    kind = manifest.get("kind")
    if manifest.get("apiVersion") != API_VERSION:
        found.add("apiVersion", f"must be {API_VERSION!r}")
    if kind not in ("Workflow", "WorkflowTemplate"):
        found.add("kind", f"{kind!r} is not supported by the local runner; use Workflow")
    metadata = manifest.get("metadata") or {}
    spec = manifest.get("spec") or {}
    generate_name = _generate_name(metadata, kind)
    if not generate_name:
        found.add("metadata", "needs generateName or name")
    templates_raw = spec.get("templates") or []
    names = [t.get("name") for t in templates_raw]
    parameters = _workflow_parameters(spec, found)
    parameter_names = {p.name for p in parameters}
    containers: dict[str, ContainerTemplate] = {}
    dag_index: int | None = None
    for index, template in enumerate(templates_raw):
        path = f"spec.templates[{index}]"
        if "dag" in template and "container" in template:
            found.add(path, "has both dag and container")
        elif "container" in template:
            built = _container_template(template, path, parameter_names, allow_inline_python, found)
            containers[built.name] = built
        elif "dag" in template:
            if template.get("name") == spec.get("entrypoint"):
                dag_index = index
            _check_dag_template(template, path, found)
        else:
            found.add(path, "has neither dag nor container; the local runner runs only these")
    tasks: tuple[Task, ...] = ()
    if dag_index is None:
        found.add("spec.entrypoint", f"{spec.get('entrypoint')!r} must name a dag template")
    else:
        tasks = _dag_tasks(templates_raw[dag_index], dag_index, containers, names, found)
        _check_task_variables(
            templates_raw[dag_index], dag_index, tasks, containers, parameter_names, found
        )
    _check_spec_variables(spec, parameter_names, found)
    deadline = _positive_int(spec.get("activeDeadlineSeconds"), "spec.activeDeadlineSeconds", found)
    parallelism = _positive_int(spec.get("parallelism"), "spec.parallelism", found)
    if dag_index is not None:
        dag_parallelism = _positive_int(
            templates_raw[dag_index].get("parallelism"),
            f"spec.templates[{dag_index}].parallelism",
            found,
        )
        if dag_parallelism is not None:
            parallelism = min(parallelism or dag_parallelism, dag_parallelism)
    _check_volumes(spec.get("volumes") or [], "spec.volumes", found)
    if found.items:
        raise ManifestRefused(source, found.items)
    return Plan(
        source=source,
        pipeline=_pipeline_name(metadata, generate_name),
        generate_name=generate_name,
        parameters=parameters,
        tasks=tasks,
        templates=containers,
        deadline_seconds=deadline,
        parallelism=parallelism,
    )


def _cron_workflow_problems(manifest: dict[str, Any]) -> list[str]:
    """Why a CronWorkflow is refused, without its spec fields.

    Its spec is a schedule around a workflowSpec, so naming each unsupported field
    hid the one useful thing to say: run the WorkflowTemplate it refers to.
    """
    found = _Problems()
    if manifest.get("apiVersion") != API_VERSION:
        found.add("apiVersion", f"must be {API_VERSION!r}")
    found.add(
        "kind",
        "a CronWorkflow is run through its WorkflowTemplate; run the "
        "workflowtemplate.yaml (or workflow.yaml) rendered next to it instead",
    )
    return found.items


def _generate_name(metadata: dict[str, Any], kind: object) -> str:
    if kind == "WorkflowTemplate":
        return f"{metadata['name']}-" if metadata.get("name") else ""
    return str(metadata.get("generateName") or metadata.get("name") or "")


def _pipeline_name(metadata: dict[str, Any], generate_name: str) -> str:
    labels = metadata.get("labels") or {}
    return str(labels.get(PIPELINE_LABEL) or generate_name.rstrip("-"))


def _workflow_parameters(spec: dict[str, Any], found: _Problems) -> tuple[WorkflowParameter, ...]:
    parameters = []
    for index, raw in enumerate((spec.get("arguments") or {}).get("parameters") or []):
        path = f"spec.arguments.parameters[{index}]"
        value = raw.get("value")
        if value is not None and not isinstance(value, str):
            found.add(f"{path}.value", "must be a string")
        enum = raw.get("enum")
        if not raw.get("name"):
            found.add(f"{path}.name", "is missing")
            continue
        parameters.append(
            WorkflowParameter(
                str(raw["name"]),
                None if value is None else str(value),
                tuple(str(v) for v in enum) if enum else None,
            )
        )
        for name in _tags_in(value):
            if name not in _GLOBALS | variables.creation_timestamp_names():
                found.add(f"{path}.value", f"unknown variable {{{{{name}}}}}")
    return tuple(parameters)


def _container_template(
    template: dict[str, Any],
    path: str,
    parameter_names: set[str],
    allow_inline_python: bool,
    found: _Problems,
) -> ContainerTemplate:
    container = template["container"]
    argv = _argv(container, f"{path}.container", allow_inline_python, found)
    inputs = {
        str(p.get("name")): _first_value(p.get("value"), p.get("default"))
        for p in (template.get("inputs") or {}).get("parameters") or []
    }
    outputs = []
    for index, raw in enumerate((template.get("outputs") or {}).get("parameters") or []):
        where = f"{path}.outputs.parameters[{index}].valueFrom.path"
        output_path = str((raw.get("valueFrom") or {}).get("path") or "")
        relative = output_path[len(OUTPUTS_PREFIX) :]
        if (
            not output_path.startswith(OUTPUTS_PREFIX)
            or not relative
            or ".." in relative.split("/")
        ):
            found.add(
                where,
                f"{output_path!r} is not supported by the local runner; "
                f"use a file under {OUTPUTS_PREFIX}",
            )
        default = (raw.get("valueFrom") or {}).get("default")
        outputs.append(
            OutputParameter(
                str(raw.get("name")), relative, None if default is None else str(default)
            )
        )
    for index, mount in enumerate(container.get("volumeMounts") or []):
        if mount.get("mountPath") != EMPTY_DIR_MOUNT:
            found.add(
                f"{path}.container.volumeMounts[{index}].mountPath",
                f"{mount.get('mountPath')!r} is not supported by the local runner; "
                "only an emptyDir at /tmp",
            )
    _check_volumes(template.get("volumes") or [], f"{path}.volumes", found)
    scope = (
        _GLOBALS
        | variables.creation_timestamp_names()
        | {f"workflow.parameters.{p}" for p in parameter_names}
        | {f"inputs.parameters.{p}" for p in inputs}
        | {"pod.name", "retries"}
    )
    _check_variables(template, path, scope, found)
    return ContainerTemplate(
        name=str(template.get("name")),
        argv=argv,
        env=_env(container.get("env") or [], f"{path}.container.env", found),
        inputs=inputs,
        outputs=tuple(outputs),
        retry=_retry(template.get("retryStrategy"), f"{path}.retryStrategy", found),
        deadline_seconds=_positive_int(
            template.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds", found
        ),
    )


def _first_value(*candidates: object) -> str | None:
    for candidate in candidates:
        if candidate is not None:
            return str(candidate)
    return None


def _argv(
    container: dict[str, Any], path: str, allow_inline_python: bool, found: _Problems
) -> tuple[str, ...]:
    command = container.get("command") or []
    args = container.get("args") or []
    if not isinstance(command, list) or not isinstance(args, list):
        found.add(path, "command and args must be lists of strings")
        return ()
    argv = [*command, *args]
    if not all(isinstance(a, str) for a in argv):
        found.add(path, "command and args must be lists of strings")
        return ()
    runs_steps = tuple(argv[:3]) == STEP_COMMAND
    runs_inline = allow_inline_python and argv[:2] == ["python", "-c"]
    if not (runs_steps or runs_inline):
        found.add(
            f"{path}.command",
            f"{' '.join(command) or '(none)'!r} is not supported by the local runner; "
            "it runs only 'python -m steps ...', the step image's command",
        )
    return tuple(argv[1:])


def _env(entries: list[dict[str, Any]], path: str, found: _Problems) -> tuple[EnvVar, ...]:
    result = []
    for index, entry in enumerate(entries):
        where = f"{path}[{index}]"
        name = str(entry.get("name") or "")
        value_from = entry.get("valueFrom") or {}
        if not name:
            found.add(f"{where}.name", "is missing")
            continue
        if "value" in entry:
            if not isinstance(entry["value"], str):
                found.add(f"{where}.value", "must be a string")
            result.append(EnvVar(name, str(entry["value"])))
            continue
        if len(value_from) != 1:
            found.add(where, "needs value, valueFrom.secretKeyRef or valueFrom.configMapKeyRef")
            continue
        ((ref_kind, ref),) = value_from.items()
        label = "secret" if ref_kind == "secretKeyRef" else "configmap"
        source = f"{label} {ref.get('name')}/{ref.get('key')}"
        result.append(EnvVar(name, None, source, bool(ref.get("optional", False))))
    return tuple(result)


def _retry(raw: dict[str, Any] | None, path: str, found: _Problems) -> RetryStrategy | None:
    if raw is None:
        return None
    limit = raw.get("limit")
    if limit is None:
        found.add(
            f"{path}.limit", "is required by the local runner (without it Argo retries forever)"
        )
        limit = 0
    elif not re.fullmatch(r"\d+", str(limit)):
        found.add(f"{path}.limit", f"{limit!r} is not a whole number")
        limit = 0
    default_policy = RetryPolicy.ALWAYS if "expression" in raw else RetryPolicy.ON_FAILURE
    policy_text = raw.get("retryPolicy", default_policy.value)
    try:
        policy = RetryPolicy(policy_text)
    except ValueError:
        known = ", ".join(p.value for p in RetryPolicy)
        found.add(f"{path}.retryPolicy", f"{policy_text!r} is not one of {known}")
        policy = RetryPolicy.ON_FAILURE
    backoff = raw.get("backoff") or {}
    duration = _duration(backoff.get("duration", 0), f"{path}.backoff.duration", found) or 0.0
    max_duration = _duration(backoff.get("maxDuration"), f"{path}.backoff.maxDuration", found)
    factor_text = backoff.get("factor", 1)
    try:
        factor = float(factor_text)
    except (TypeError, ValueError):
        found.add(f"{path}.backoff.factor", f"{factor_text!r} is not a number")
        factor = 1.0
    expression = _retry_expression(raw.get("expression"), f"{path}.expression", found)
    return RetryStrategy(int(limit), policy, duration, factor, max_duration, expression)


def _retry_expression(value: object, path: str, found: _Problems) -> RetryExpression | None:
    if value is None:
        return None
    if not isinstance(value, str):
        found.add(path, f"{value!r} is not a string")
        return None
    try:
        return parse_retry_expression(value)
    except UnsupportedExpression as err:
        found.add(
            path, f"{value!r} is not supported by the local runner ({err}); {SUPPORTED_FORMS}"
        )
        return None


def _duration(value: object, path: str, found: _Problems) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)  # type: ignore[arg-type]
    except ValueError as err:
        found.add(path, str(err))
        return None


def _positive_int(value: object, path: str, found: _Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value)) or int(str(value)) < 1:
        found.add(path, f"{value!r} is not a positive whole number")
        return None
    return int(str(value))


def _check_volumes(volumes: list[dict[str, Any]], path: str, found: _Problems) -> None:
    for index, volume in enumerate(volumes):
        if "emptyDir" not in volume:
            found.add(f"{path}[{index}]", "only emptyDir volumes are supported by the local runner")


def _check_dag_template(template: dict[str, Any], path: str, found: _Problems) -> None:
    for key in ("inputs", "outputs", "retryStrategy", "activeDeadlineSeconds", "volumes"):
        if key in template:
            found.add(f"{path}.{key}", "not supported on a dag template by the local runner")


def _dag_tasks(
    template: dict[str, Any],
    index: int,
    containers: dict[str, ContainerTemplate],
    template_names: list[object],
    found: _Problems,
) -> tuple[Task, ...]:
    raw_tasks = template["dag"].get("tasks") or []
    task_names = [str(t.get("name")) for t in raw_tasks]
    tasks: list[Task] = []
    for position, raw in enumerate(raw_tasks):
        path = f"spec.templates[{index}].dag.tasks[{position}]"
        name = str(raw.get("name"))
        if task_names.count(name) > 1:
            found.add(f"{path}.name", f"task {name!r} appears more than once")
        target = raw.get("template")
        if target not in containers:
            reason = "is a dag template" if target in template_names else "is not defined"
            found.add(
                f"{path}.template", f"{target!r} {reason}; tasks must run container templates"
            )
        dependencies = _dependencies(raw, path, found)
        for dependency in dependencies:
            if dependency not in task_names:
                found.add(path, f"depends on unknown task {dependency!r}")
        arguments = {
            str(p.get("name")): str(p.get("value", ""))
            for p in (raw.get("arguments") or {}).get("parameters") or []
        }
        if target in containers:
            declared = containers[str(target)].inputs
            for argument in arguments:
                if argument not in declared:
                    found.add(
                        f"{path}.arguments",
                        f"template {target!r} has no input parameter {argument!r}",
                    )
            for input_name, default in declared.items():
                if input_name not in arguments and default is None:
                    found.add(
                        path, f"input parameter {input_name!r} of template {target!r} gets no value"
                    )
        tasks.append(Task(name, str(target), dependencies, arguments))
    return _topological(tasks, f"spec.templates[{index}].dag", found)


def _dependencies(raw: dict[str, Any], path: str, found: _Problems) -> tuple[str, ...]:
    names = [str(d) for d in raw.get("dependencies") or []]
    depends = raw.get("depends")
    if depends is not None:
        for term in str(depends).split("&&"):
            match = _DEPENDS_TERM.fullmatch(term.strip())
            if match is None:
                found.add(
                    f"{path}.depends",
                    f"{depends!r} is not supported by the local runner; use 'a && b' of task names "
                    "(each optionally .Succeeded)",
                )
                break
            names.append(match.group(1))
    return tuple(dict.fromkeys(names))


def _topological(tasks: list[Task], path: str, found: _Problems) -> tuple[Task, ...]:
    ordered: list[Task] = []
    done: set[str] = set()
    known = {t.name for t in tasks}
    pending = list(tasks)
    while pending:
        ready = [t for t in pending if all(d in done or d not in known for d in t.dependencies)]
        if not ready:
            cycle = ", ".join(t.name for t in pending)
            found.add(path, f"tasks {cycle} depend on each other in a cycle")
            return tuple(ordered)
        for task in ready:
            ordered.append(task)
            done.add(task.name)
            pending.remove(task)
    return tuple(ordered)


def ancestors(tasks: tuple[Task, ...]) -> dict[str, set[str]]:
    """For each task, every task it (transitively) depends on."""
    by_name = {t.name: t for t in tasks}
    result: dict[str, set[str]] = {}
    for task in tasks:
        seen: set[str] = set()
        stack = list(task.dependencies)
        while stack:
            name = stack.pop()
            if name in seen or name not in by_name:
                continue
            seen.add(name)
            stack.extend(by_name[name].dependencies)
        result[task.name] = seen
    return result


def _check_task_variables(
    template: dict[str, Any],
    index: int,
    tasks: tuple[Task, ...],
    containers: dict[str, ContainerTemplate],
    parameter_names: set[str],
    found: _Problems,
) -> None:
    upstream = ancestors(tasks)
    by_name = {t.name: t for t in tasks}
    base = (
        _GLOBALS
        | variables.creation_timestamp_names()
        | {f"workflow.parameters.{p}" for p in parameter_names}
    )
    for position, raw in enumerate(template["dag"].get("tasks") or []):
        name = str(raw.get("name"))
        scope = set(base)
        for ancestor in upstream.get(name, set()):
            outputs = containers.get(by_name[ancestor].template)
            for output in outputs.outputs if outputs else ():
                scope.add(f"tasks.{ancestor}.outputs.parameters.{output.name}")
        _check_variables(
            raw, f"spec.templates[{index}].dag.tasks[{position}]", frozenset(scope), found
        )


def _check_spec_variables(
    spec: dict[str, Any], parameter_names: set[str], found: _Problems
) -> None:
    scope = (
        _GLOBALS
        | variables.creation_timestamp_names()
        | {f"workflow.parameters.{p}" for p in parameter_names}
    )
    for key, value in spec.items():
        if key not in ("templates", "arguments"):
            _check_variables(value, f"spec.{key}", scope, found)


def _check_variables(
    value: object, path: str, scope: frozenset[str] | set[str], found: _Problems
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_variables(item, f"{path}.{key}", scope, found)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_variables(item, f"{path}[{position}]", scope, found)
    elif isinstance(value, str):
        for name in variables.tags(value):
            if name.startswith("="):
                found.add(
                    path, f"expression tag {{{{{name}}}}} is not supported by the local runner"
                )
            elif name not in scope:
                found.add(path, f"unknown variable {{{{{name}}}}}")


def _tags_in(value: object) -> list[str]:
    return list(variables.tags(value)) if isinstance(value, str) else []
