"""Run the exit handler once the main DAG has finished, as Argo's controller does.

Argo sets ``{{workflow.status}}`` (the main DAG's phase), ``{{workflow.duration}}``
(seconds so far, ``%f``) and ``{{workflow.failures}}`` (the failed nodes as JSON,
quoted once more by the controller, so a step receives a JSON string holding the
JSON list, ``"null"`` when nothing failed) and runs the ``spec.hooks.exit`` template
(workflow/controller/operator.go). Its tasks are recorded beside the main ones
(``hook: exit``). Its outcome changes the run's only when the main DAG succeeded:
an exit handler that fails makes the run Failed (Error for an error), as Argo's
``markWorkflowFailed(onExitNode.Message)`` does; a failed run stays failed.

A ``resource`` task (``action: create`` of a Workflow from a WorkflowTemplate) is
"created" at once: it gets the new run's id, which the caller runs afterwards
(:mod:`workflows.runner.triggered`).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from workflows.runner import conditions
from workflows.runner.manifest import ExitHandler, ExitTask
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, TaskStatus
from workflows.runner.scheduler import Execution, StopSignals, execute
from workflows.runner.variables import pod_name, substitute, workflow_name

EXIT_HOOK = "exit"
"""``TaskRecord.hook`` of an exit-handler task."""


@dataclass(frozen=True)
class CreatedRun:
    """A run a dependency trigger created: which WorkflowTemplate, its id and parameters."""

    workflow_template: str
    run_id: str
    parameters: dict[str, str]
    triggered_by: str


def failures_json(record: RunRecord) -> str:
    """``{{workflow.failures}}`` as a step receives it on Argo: a JSON string of the JSON list.

    One entry per failed or errored task of the main DAG, in task order, with Argo's
    keys (``failedNodeStatus``): displayName, message, templateName, phase, podName,
    finishedAt.
    """
    failed = [
        {
            "displayName": task.name,
            "message": task.reason or "",
            "templateName": task.template,
            "phase": task.status.value,
            "podName": pod_name(record.run_id, task.template, task.name, max(task.attempts - 1, 0)),
            "finishedAt": task.finished.strftime("%Y-%m-%dT%H:%M:%SZ") if task.finished else None,
        }
        for task in record.tasks
        if task.hook is None and task.status in (TaskStatus.FAILED, TaskStatus.ERROR)
    ]
    inner = json.dumps(failed or None, separators=(",", ":"))
    return json.dumps(inner)


def exit_values(
    global_values: Mapping[str, str], record: RunRecord, status: RunStatus
) -> dict[str, str]:
    """The global values of the exit handler: the run's and Argo's three exit variables."""
    duration = (datetime.now(UTC) - record.started).total_seconds()
    return {
        **global_values,
        "workflow.status": status.value,
        "workflow.duration": f"{duration:f}",
        "workflow.failures": failures_json(record),
    }


def run_exit_handler(
    run: Execution,
    handler: ExitHandler,
    status: RunStatus,
    *,
    triggers: bool,
    signals: StopSignals | None = None,
) -> list[CreatedRun]:
    """Run the exit handler's tasks; return the runs its resource tasks created.

    Args:
        run: the main DAG's execution (record, folder, view, environment).
        handler: the plan's exit handler.
        status: the main DAG's outcome (``{{workflow.status}}``).
        triggers: False records resource tasks as Skipped (``ferry run --no-triggers``).
        signals: stop signals, as for the main DAG.

    Raises:
        StoreWriteError: the store could not be written.
    """
    values = exit_values(run.global_values, run.record, status)
    record = run.record
    for exit_task in handler.tasks:
        record.tasks.append(
            TaskRecord(
                name=exit_task.task.name,
                template=exit_task.task.template,
                log=run.folder.log_uri(exit_task.task.name),
                hook=EXIT_HOOK,
            )
        )
    created: list[CreatedRun] = []
    containers = []
    for exit_task in handler.tasks:
        entry = record.task(exit_task.task.name)
        if exit_task.when is not None and not conditions.when_holds(exit_task.when, values):
            _skip(entry, f"when {exit_task.when!r} was false")
        elif exit_task.task.template in handler.resources:
            created += _create(entry, exit_task, handler, values, triggers=triggers)
        else:
            containers.append(exit_task.task)
            continue
        run.view.task_settled(entry)
    run.folder.save(record)
    if containers:
        names = {task.name for task in containers}
        tasks = tuple(
            replace(t, dependencies=tuple(d for d in t.dependencies if d in names))
            for t in containers
        )
        plan = replace(run.plan, tasks=tasks, exit_handler=None, timed_hooks=())
        execute(replace(run, plan=plan, global_values=values, timed_hooks=()), signals)
    return created


def _skip(entry: TaskRecord, reason: str) -> None:
    entry.status = TaskStatus.SKIPPED
    entry.reason = reason


def _create(
    entry: TaskRecord,
    exit_task: ExitTask,
    handler: ExitHandler,
    values: Mapping[str, str],
    *,
    triggers: bool,
) -> list[CreatedRun]:
    resource = handler.resources[exit_task.task.template]
    if not triggers:
        _skip(entry, f"dependency triggers are off; {resource.workflow_template} not started")
        return []
    now = datetime.now(UTC)
    run_id = workflow_name(f"{resource.workflow_template}-")
    entry.status = TaskStatus.SUCCEEDED
    entry.started = entry.finished = now
    entry.duration_seconds = 0.0
    entry.attempts = 1
    entry.created_run = run_id
    parameters = {name: substitute(value, values) for name, value in resource.parameters.items()}
    return [CreatedRun(resource.workflow_template, run_id, parameters, values["workflow.name"])]
