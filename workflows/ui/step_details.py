"""Everything a step's page shows besides its task record, gathered in one place."""

from dataclasses import dataclass, field
from typing import Any

from steps.runtime.store import Location
from workflows.runner.record import RunRecord, TaskRecord
from workflows.ui.run_files import artifact_location
from workflows.ui.step_artifact import (
    ProfileTable,
    QuarantineSample,
    profile_table,
    read_quarantine,
    read_report,
)
from workflows.ui.step_log import Attempt, read_attempts, read_log_tail


@dataclass
class StepDetails:
    """What a step's page shows besides its task record."""

    attempts: list[Attempt]
    log_tail: str
    log_truncated: bool
    artifact_uri: str | None
    report: dict[str, Any] | None
    quarantine: QuarantineSample | None
    profile: ProfileTable | None = None
    problems: list[str] = field(default_factory=list)
    """One line for each part that could not be read (shown, not raised)."""


def step_details(
    store: Location, record: RunRecord, task: TaskRecord, manifest: dict[str, Any] | None
) -> StepDetails:
    """Attempts, log tail, quality report and quarantine sample of one step."""
    problems: list[str] = []
    artifact = artifact_location(store, record, task, manifest)
    report: dict[str, Any] | None = None
    quarantine: QuarantineSample | None = None
    try:
        report = read_report(artifact)
    except (OSError, ValueError) as err:
        problems.append(f"quality report: {' '.join(str(err).split())}")
    try:
        quarantine = read_quarantine(artifact)
    except FileNotFoundError:
        quarantine = None
    except (OSError, ValueError, KeyError) as err:
        problems.append(f"quarantine: {' '.join(str(err).split())}")
    tail, truncated = read_log_tail(store, record, task)
    return StepDetails(
        profile=profile_table(report.get("profile")) if report else None,
        attempts=read_attempts(store, record, task),
        log_tail=tail,
        log_truncated=truncated,
        artifact_uri=artifact.uri,
        report=report,
        quarantine=quarantine,
        problems=problems,
    )
