"""The parts of a Workflow manifest the local runner executes, as plain frozen values.

:mod:`workflows.runner.parse` builds them from the manifest dict after checking it;
the scheduler and the attempts only read them. Keeping the model apart from the
parsing lets those modules depend on the shape without the checks behind it.
"""

from dataclasses import dataclass

from workflows.graph import Graph
from workflows.runner.retry import RetryStrategy


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
class FanOut:
    """A task's ``withItems``/``withParam``: one child task per item (``task(0:item)``)."""

    items: tuple[object, ...] | None
    """``withItems`` as given; None when the items come from ``with_param``."""
    with_param: str | None
    """``withParam``: text holding a JSON list once its tags are filled in."""
    parallelism: int | None
    """The ``parallelism`` of the DAG template the expanded task is in (its fan-out
    template); None: only the run's limit applies."""
    group_inputs: dict[str, str]
    """The fan-out template's input parameters -> their values from the calling task."""


@dataclass(frozen=True)
class Task:
    """A DAG task: which template it runs, after which tasks, with which arguments."""

    name: str
    template: str
    dependencies: tuple[str, ...]
    arguments: dict[str, str]
    fanout: FanOut | None = None
    """Set for a task expanded over items; its children run ``template`` with ``arguments``."""


@dataclass(frozen=True)
class CreateWorkflow:
    """A ``resource`` template with ``action: create`` of a Workflow from a WorkflowTemplate.

    Locally, creating it starts a run of that WorkflowTemplate's pipeline (a dependency
    trigger); the parameters are still unsubstituted text.
    """

    name: str
    workflow_template: str
    parameters: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class ExitTask:
    """A task of the exit handler: a DAG task with an optional ``when`` condition."""

    task: Task
    when: str | None


@dataclass(frozen=True)
class ExitHandler:
    """``spec.hooks.exit`` (or ``spec.onExit``): what runs once the main DAG has finished."""

    template: str
    tasks: tuple[ExitTask, ...]
    resources: dict[str, CreateWorkflow]


@dataclass(frozen=True)
class TimedHook:
    """A workflow-level hook whose ``expression`` holds once the run is older than a bound.

    Ferry renders only ``workflow.status == "Running" && asFloat(workflow.duration) > N``,
    which the runner fires ``after_seconds`` after the run started, while it still runs.
    """

    name: str
    template: str
    after_seconds: float


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
    exit_handler: ExitHandler | None = None
    timed_hooks: tuple[TimedHook, ...] = ()


def dependency_graph(tasks: tuple[Task, ...] | list[Task]) -> Graph:
    """The tasks as a :mod:`workflows.graph` graph: each task name -> the tasks it waits for."""
    return {task.name: task.dependencies for task in tasks}
