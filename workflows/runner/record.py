"""The run record: what happened in one local run, task by task (``run.json``).

A record that says ``Running`` is only believed while its runner is alive: the runner
writes its pid, its host and a heartbeat into the record, and :func:`abandoned_reason`
tells a reader when that runner is gone (killed, host rebooted), so a killed run is
listed as ``Abandoned`` instead of ``Running`` forever.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from steps.runtime.process import pid_alive, this_host


class RunStatus(StrEnum):
    """A run's phase, as Argo names workflow phases."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"
    ABANDONED = "Abandoned"
    """Never written by a runner: what readers show for a ``Running`` record whose
    runner is gone (see :func:`abandoned_reason`)."""


HEARTBEAT_SECONDS = 10.0
"""How often a running runner rewrites its record (``heartbeat``) when nothing else happens."""

ABANDONED_AFTER_SECONDS = 120.0
"""A ``Running`` record whose heartbeat is older than this is abandoned, on any host."""


class TaskStatus(StrEnum):
    """A task's phase, as Argo names node phases."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"
    OMITTED = "Omitted"
    SKIPPED = "Skipped"
    """An exit-handler task whose ``when`` was false, or a trigger ``--no-triggers`` turned off."""


class TaskRecord(BaseModel):
    """One DAG task of a run: its outcome, attempts and the row counts it reported."""

    name: str = Field(description="Task name (the step name).")
    template: str = Field(description="Template the task runs.")
    status: TaskStatus = Field(default=TaskStatus.PENDING, description="Phase of the task.")
    attempts: int = Field(default=0, description="Attempts started, retries included.")
    started: datetime | None = Field(default=None, description="Start of the first attempt (UTC).")
    finished: datetime | None = Field(default=None, description="End of the last attempt (UTC).")
    duration_seconds: float | None = Field(
        default=None, description="From the first attempt's start to the last attempt's end."
    )
    exit_code: int | None = Field(
        default=None, description="Exit code of the last attempt; negative for a signal."
    )
    reason: str | None = Field(
        default=None, description="Why the last attempt failed: the last non-empty stderr line."
    )
    not_retried: str | None = Field(
        default=None,
        description=(
            "Set when retries were left but retryStrategy.expression declined them: what the "
            "exit code means ('data rejected', 'bad usage or config') or 'exit code N'."
        ),
    )
    outputs: dict[str, str] = Field(
        default_factory=dict, description="Output parameters of the successful attempt."
    )
    rows_in: int | None = Field(default=None, description="Rows the step read (output parameter).")
    rows_out: int | None = Field(default=None, description="Rows the step passed on.")
    rows_rejected: int | None = Field(default=None, description="Rows the step quarantined.")
    quality_score: float | None = Field(default=None, description="rows_out / rows_in.")
    input_rows: dict[str, int] = Field(
        default_factory=dict,
        description="Rows the step read per input (a transform's rows_in is their sum).",
    )
    warning: str | None = Field(
        default=None,
        description="A problem that did not fail the step, e.g. a warn-severity quality gate.",
    )
    cached: bool = Field(
        default=False,
        description="Whether the step adopted a cache entry instead of computing its artifact.",
    )
    cached_from: str | None = Field(
        default=None,
        description="Set when the step adopted a cache entry: the run that computed it.",
    )
    cache_key: str | None = Field(
        default=None, description="The cache key of the entry the step adopted, when it did."
    )
    log: str = Field(description="Where the task's stdout and stderr are kept.")
    item: str | None = Field(
        default=None,
        description="For one partition of a fanned-out task: its item, as Argo renders "
        "{{item}} (text, or compact JSON for an object).",
    )
    partitions: list["TaskRecord"] = Field(
        default_factory=list,
        description="For a fanned-out task (withItems/withParam): one record per item, named "
        "as Argo names the nodes, task(0:item); the task's own row counts are their sums.",
    )
    hook: str | None = Field(
        default=None,
        description="'exit' for a task of the exit handler, a hook's name for a workflow "
        "hook's task, None for a task of the main DAG.",
    )
    created_run: str | None = Field(
        default=None,
        description="Run id of the Workflow this resource task created (a dependency trigger).",
    )


class RunRecord(BaseModel):
    """One local run of a Workflow manifest."""

    run_id: str = Field(description="The workflow name ({{workflow.name}}), also the run id.")
    pipeline: str = Field(description="Pipeline name (label ferry.dev/pipeline or generateName).")
    source: str = Field(description="The manifest file or pipeline the run came from.")
    store: str = Field(description="Store URI the run used (folder or s3://bucket/prefix).")
    parameters: dict[str, str] = Field(description="Workflow parameters as the run used them.")
    status: RunStatus = Field(default=RunStatus.RUNNING, description="Phase of the run.")
    message: str | None = Field(default=None, description="Why the run did not succeed.")
    started: datetime = Field(description="When the run started (UTC).")
    finished: datetime | None = Field(default=None, description="When the run ended (UTC).")
    duration_seconds: float | None = Field(default=None, description="Wall time of the run.")
    tasks: list[TaskRecord] = Field(description="Every task, in dependency order.")
    runner_pid: int | None = Field(
        default=None, description="Process id of the `ferry run` that runs (or ran) it."
    )
    runner_host: str | None = Field(
        default=None, description="Host name of that process (the pid is only checked there)."
    )
    heartbeat: datetime | None = Field(
        default=None,
        description=(
            "When the runner last wrote the record (UTC); at least every "
            f"{HEARTBEAT_SECONDS:g}s while it runs."
        ),
    )
    python_path: list[str] = Field(
        default_factory=list,
        description="Folders the steps imported from (a pipeline's own), for `ferry retry`.",
    )
    retries: int = Field(
        default=0, description="How often `ferry retry` resumed this run (same run id)."
    )
    triggered_by: str | None = Field(
        default=None,
        description="Run id of the upstream run whose dependency trigger started this run.",
    )

    def warnings(self) -> list[str]:
        """``step: warning`` for every task that reported one, in task order."""
        return [f"{t.name}: {t.warning}" for t in self.tasks if t.warning]

    def task(self, name: str) -> TaskRecord:
        """The record of task ``name``, or of the partition of a fanned-out task so named."""
        for task in self.tasks:
            if task.name == name:
                return task
            for child in task.partitions:
                if child.name == name:
                    return child
        raise KeyError(name)


def abandoned_reason(
    record: RunRecord,
    *,
    now: datetime | None = None,
    host: str | None = None,
    stale_after_seconds: float = ABANDONED_AFTER_SECONDS,
) -> str | None:
    """Why a ``Running`` record is abandoned, or None while its runner may still be at work.

    Abandoned: the runner's pid is gone (or a zombie) on this host, or the heartbeat
    (the start, for records written before heartbeats) is older than
    ``stale_after_seconds`` — the only test for a runner on another host, and the one
    that catches a pid reused by another process.
    """
    if record.status is not RunStatus.RUNNING:
        return None
    host = this_host() if host is None else host
    runner = f"pid {record.runner_pid} on {record.runner_host}" if record.runner_pid else None
    if record.runner_pid and record.runner_host == host and not pid_alive(record.runner_pid):
        return f"the runner ({runner}) is gone; the run never finished"
    beat = record.heartbeat or record.started
    age = ((now or datetime.now(UTC)) - beat).total_seconds()
    if age > stale_after_seconds:
        who = f"the runner ({runner})" if runner else "the runner"
        return (
            f"no heartbeat from {who} since {beat:%Y-%m-%d %H:%M:%S} UTC "
            f"(more than {timedelta(seconds=int(stale_after_seconds))}); the run never finished"
        )
    return None
