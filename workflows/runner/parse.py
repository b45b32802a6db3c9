"""From a Workflow manifest (a dict) to a checked :class:`~workflows.runner.manifest.Plan`.

The plan is read from the manifest only. Every problem is collected (unsupported
fields, unknown variables, bad retry settings, cycles, ...) and raised together as
one :class:`ManifestRefused`, before any process starts. The checks this module
leans on live beside their subject: the field whitelist in
:mod:`~workflows.runner.support`, variable scopes in :mod:`~workflows.runner.scopes`,
``retryStrategy`` in :mod:`~workflows.runner.retry`, cycles and order in
:mod:`workflows.graph`.
"""

import re
from typing import Any

from steps.contract import (
    DEFAULT_OUTPUTS_DIR,
    PIPELINE_LABEL,
    PIPELINE_MUTEX_INTERVAL,
    PIPELINE_MUTEX_PREFIX,
    STEP_COMMAND,
)
from workflows.graph import find_cycle, topological_order
from workflows.runner import fanout, hooks, scopes
from workflows.runner.errors import ManifestRefused, Problems
from workflows.runner.manifest import (
    ContainerTemplate,
    CreateWorkflow,
    EnvVar,
    OutputParameter,
    Plan,
    Task,
    WorkflowParameter,
    dependency_graph,
)
from workflows.runner.retry import parse_retry_strategy
from workflows.runner.support import unsupported_fields

API_VERSION = "argoproj.io/v1alpha1"
OUTPUTS_PREFIX = DEFAULT_OUTPUTS_DIR + "/"
EMPTY_DIR_MOUNT = "/tmp"
_DEPENDS_TERM = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)(\.Succeeded)?")

ACCEPTED_COMMANDS: tuple[tuple[str, ...], ...] = (STEP_COMMAND,)
"""The command prefixes (``command`` + ``args``) a container may start with.

Only the step image's command. Internal, not an option: the runner's own tests
extend it (with ``pytest.MonkeyPatch``) to ``("python", "-c")`` so stand-in tasks
can run in a manifest of the rendered shape. Each prefix starts with ``python``,
which the runner replaces by the current interpreter. Read on every
:func:`build_plan` call, so a patched value takes effect.
"""


def build_plan(manifest: dict[str, Any], *, source: str = "manifest") -> Plan:
    """Check ``manifest`` and turn it into a :class:`Plan`.

    Args:
        manifest: a ``Workflow`` (or ``WorkflowTemplate``, run as ``argo submit --from``).
        source: how to name the manifest in messages (a file path or pipeline name).

    Raises:
        ManifestRefused: with every problem found.
    """
    if manifest.get("kind") == "CronWorkflow":
        raise ManifestRefused(source, _cron_workflow_problems(manifest))
    problems = unsupported_fields(manifest)
    if problems:
        raise ManifestRefused(source, problems)
    found = Problems()
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
    dags: dict[str, tuple[int, dict[str, Any]]] = {}
    resources: dict[str, CreateWorkflow] = {}
    hook_scopes = hooks.hook_scopes(spec, templates_raw)
    dag_index: int | None = None
    for index, template in enumerate(templates_raw):
        path = f"spec.templates[{index}]"
        extra = hook_scopes.get(str(template.get("name")), frozenset())
        if len({"dag", "container", "resource"} & set(template)) > 1:
            found.add(path, "has more than one of dag, container and resource")
        elif "container" in template:
            built = _container_template(template, path, parameter_names, found, extra)
            containers[built.name] = built
        elif "resource" in template:
            resources[str(template.get("name"))] = hooks.create_workflow(template, path, found)
            scopes.check_tags(template, path, scopes.workflow_scope(parameter_names) | extra, found)
        elif "dag" in template:
            entry = template.get("name") == spec.get("entrypoint")
            if entry:
                dag_index = index
            else:
                dags[str(template.get("name"))] = (index, template)
            _check_dag_template(
                template, path, found, fan_out=not entry and fanout.is_fan_out_template(template)
            )
        else:
            found.add(
                path,
                "has neither dag, container nor resource; the local runner runs only these",
            )
    tasks: tuple[Task, ...] = ()
    if dag_index is None:
        found.add("spec.entrypoint", f"{spec.get('entrypoint')!r} must name a dag template")
    else:
        tasks = _dag_tasks(
            templates_raw[dag_index], dag_index, containers, dags, parameter_names, names, found
        )
        _check_task_variables(
            templates_raw[dag_index], dag_index, tasks, containers, parameter_names, found
        )
    exit_handler = hooks.exit_handler(
        spec, templates_raw, containers, resources, parameter_names, found
    )
    timed_hooks = hooks.timed_hooks(spec, containers, found)
    for problem in hooks.check_names(exit_handler, timed_hooks, {t.name for t in tasks}):
        found.items.append(problem)
    scopes.check_spec(
        {k: v for k, v in spec.items() if k not in ("hooks", "onExit")}, parameter_names, found
    )
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
    _check_synchronization(
        spec.get("synchronization") or {}, _pipeline_name(metadata, generate_name), found
    )
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
        exit_handler=exit_handler,
        timed_hooks=timed_hooks,
    )


def _check_synchronization(sync: dict[str, Any], pipeline: str, found: Problems) -> None:
    """Accept only the pipeline's own mutex: locally that is the runner's store lock.

    A mutex of another name would serialise runs across pipelines on the cluster, which
    the local runner's per-pipeline lock cannot honour, so it is refused by path.
    """
    own = f"{PIPELINE_MUTEX_PREFIX}{pipeline}{PIPELINE_MUTEX_INTERVAL}"
    for index, mutex in enumerate(sync.get("mutexes") or []):
        name = mutex.get("name")
        if name != own:
            found.add(
                f"spec.synchronization.mutexes[{index}].name",
                f"{name!r} is not this pipeline's mutex {own!r}; the local runner locks "
                "per pipeline (and interval) only, so drop it or render the pipeline again",
            )


def _cron_workflow_problems(manifest: dict[str, Any]) -> list[str]:
    """Why a CronWorkflow is refused, without its spec fields.

    Its spec is a schedule around a workflowSpec, so naming each unsupported field
    hid the one useful thing to say: run the WorkflowTemplate it refers to.
    """
    found = Problems()
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


def _workflow_parameters(spec: dict[str, Any], found: Problems) -> tuple[WorkflowParameter, ...]:
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
        scopes.check_parameter_value(value, f"{path}.value", found)
    return tuple(parameters)


def _container_template(
    template: dict[str, Any],
    path: str,
    parameter_names: set[str],
    found: Problems,
    extra: frozenset[str] = frozenset(),
) -> ContainerTemplate:
    container = template["container"]
    argv = _argv(container, f"{path}.container", found)
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
    own = {key: value for key, value in template.items() if key != "metrics"}
    scopes.check_tags(own, path, scopes.container_scope(parameter_names, inputs) | extra, found)
    if "metrics" in template:
        metrics_scope = scopes.template_metrics_scope(
            parameter_names, inputs, [output.name for output in outputs]
        )
        scopes.check_tags(template["metrics"], f"{path}.metrics", metrics_scope, found)
    return ContainerTemplate(
        name=str(template.get("name")),
        argv=argv,
        env=_env(container.get("env") or [], f"{path}.container.env", found),
        inputs=inputs,
        outputs=tuple(outputs),
        retry=parse_retry_strategy(template.get("retryStrategy"), f"{path}.retryStrategy", found),
        deadline_seconds=_positive_int(
            template.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds", found
        ),
    )


def _first_value(*candidates: object) -> str | None:
    for candidate in candidates:
        if candidate is not None:
            return str(candidate)
    return None


def _argv(container: dict[str, Any], path: str, found: Problems) -> tuple[str, ...]:
    command = container.get("command") or []
    args = container.get("args") or []
    if not isinstance(command, list) or not isinstance(args, list):
        found.add(path, "command and args must be lists of strings")
        return ()
    argv = [*command, *args]
    if not all(isinstance(a, str) for a in argv):
        found.add(path, "command and args must be lists of strings")
        return ()
    if not any(tuple(argv[: len(prefix)]) == prefix for prefix in ACCEPTED_COMMANDS):
        found.add(
            f"{path}.command",
            f"{' '.join(command) or '(none)'!r} is not supported by the local runner; "
            "it runs only 'python -m steps ...', the step image's command",
        )
    return tuple(argv[1:])


def _env(entries: list[dict[str, Any]], path: str, found: Problems) -> tuple[EnvVar, ...]:
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


def _positive_int(value: object, path: str, found: Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value)) or int(str(value)) < 1:
        found.add(path, f"{value!r} is not a positive whole number")
        return None
    return int(str(value))


def _check_volumes(volumes: list[dict[str, Any]], path: str, found: Problems) -> None:
    for index, volume in enumerate(volumes):
        if "emptyDir" not in volume:
            found.add(f"{path}[{index}]", "only emptyDir volumes are supported by the local runner")


def _check_dag_template(
    template: dict[str, Any], path: str, found: Problems, *, fan_out: bool
) -> None:
    """Refuse what a dag template may not have; a fan-out template may take inputs."""
    refused = ("outputs", "retryStrategy", "activeDeadlineSeconds", "volumes")
    for key in refused if fan_out else ("inputs", *refused):
        if key in template:
            found.add(f"{path}.{key}", "not supported on a dag template by the local runner")


def _dag_tasks(
    template: dict[str, Any],
    index: int,
    containers: dict[str, ContainerTemplate],
    dags: dict[str, tuple[int, dict[str, Any]]],
    parameter_names: set[str],
    template_names: list[object],
    found: Problems,
) -> tuple[Task, ...]:
    raw_tasks = template["dag"].get("tasks") or []
    task_names = [str(t.get("name")) for t in raw_tasks]
    tasks: list[Task] = []
    for position, outer in enumerate(raw_tasks):
        path = f"spec.templates[{index}].dag.tasks[{position}]"
        name = str(outer.get("name"))
        if task_names.count(name) > 1:
            found.add(f"{path}.name", f"task {name!r} appears more than once")
        raw, fan_out = outer, None
        group = dags.get(str(outer.get("template")))
        if group is not None and fanout.is_fan_out_template(group[1]):
            group_path = f"spec.templates[{group[0]}]"
            raw, given, limit = fanout.group_task(
                outer, group[1], path, group_path, containers, parameter_names, found
            )
            fan_out = fanout.fan_out_of(raw, f"{group_path}.dag.tasks[0]", limit, given, found)
        elif fanout.is_fan_out(outer):
            fan_out = fanout.fan_out_of(outer, path, None, {}, found)
        target = raw.get("template")
        if target not in containers:
            reason = "is a dag template" if target in template_names else "is not defined"
            found.add(
                f"{path}.template", f"{target!r} {reason}; tasks must run container templates"
            )
        if "when" in raw:
            found.add(f"{path}.when", "not supported by the local runner outside an exit handler")
        dependencies = _dependencies(outer, path, found)
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
        tasks.append(Task(name, str(target), dependencies, arguments, fan_out))
    return _in_dependency_order(tasks, f"spec.templates[{index}].dag", found)


def _dependencies(raw: dict[str, Any], path: str, found: Problems) -> tuple[str, ...]:
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


def _in_dependency_order(tasks: list[Task], path: str, found: Problems) -> tuple[Task, ...]:
    """The tasks, each after the tasks it depends on; as given (and refused) if there is a cycle.

    The cycle is named in run order, ``a -> b -> a``: each task is needed by the next,
    as pipeline validation names a cycle of steps.
    """
    graph = dependency_graph(tasks)
    cycle = find_cycle(graph)
    if cycle is not None:
        found.add(path, f"tasks form a cycle: {' -> '.join(reversed(cycle))}; break it")
        return tuple(tasks)
    position = {name: rank for rank, name in enumerate(topological_order(graph))}
    return tuple(sorted(tasks, key=lambda task: position[task.name]))


def _check_task_variables(
    template: dict[str, Any],
    index: int,
    tasks: tuple[Task, ...],
    containers: dict[str, ContainerTemplate],
    parameter_names: set[str],
    found: Problems,
) -> None:
    task_scopes = scopes.task_scopes(tasks, containers, parameter_names)
    fallback = scopes.workflow_scope(parameter_names)
    for position, raw in enumerate(template["dag"].get("tasks") or []):
        scope = task_scopes.get(str(raw.get("name")), fallback) | fanout.item_scope(raw)
        scopes.check_tags(raw, f"spec.templates[{index}].dag.tasks[{position}]", scope, found)
