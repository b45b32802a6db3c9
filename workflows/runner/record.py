"""The run record: what happened in one local run, task by task (``run.json``)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class RunStatus(StrEnum):
    """A run's phase, as Argo names workflow phases."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"


class TaskStatus(StrEnum):
    """A task's phase, as Argo names node phases."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"
    OMITTED = "Omitted"


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
    log: str = Field(description="Where the task's stdout and stderr are kept.")


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

    def warnings(self) -> list[str]:
        """``step: warning`` for every task that reported one, in task order."""
        return [f"{t.name}: {t.warning}" for t in self.tasks if t.warning]

    def task(self, name: str) -> TaskRecord:
        """The record of task ``name``."""
        return next(t for t in self.tasks if t.name == name)
