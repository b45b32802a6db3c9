"""A step's log: its attempts (start, end, outcome) and its tail, read within bounds."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from steps.runtime.store import Location
from workflows.runner.record import RunRecord, TaskRecord
from workflows.ui.run_files import run_folder

LOG_TAIL_BYTES = 64 * 1024
"""How much of the end of a step's log its page shows."""

ATTEMPT_SCAN_BYTES = 8 * 1024 * 1024
"""How much of a log is read to find its attempts' starts and ends."""

_ATTEMPT_HEADER = re.compile(
    r"^==> (?P<task>\S+) attempt (?P<number>\d+)/(?P<limit>\d+) pod \S+ at (?P<at>\S+)$"
)
"""The line the local runner writes into a task's log when an attempt starts."""


@dataclass(frozen=True)
class Attempt:
    """One attempt of a task, as its log tells it."""

    number: int
    started: datetime
    finished: datetime | None
    outcome: str
    """``Succeeded``, ``Failed`` (the step said why), ``Running``, or the task's phase."""
    reason: str | None = None


def read_attempts(store: Location, record: RunRecord, task: TaskRecord) -> list[Attempt]:
    """The task's attempts, from the headers the runner writes into its log.

    The header's time has whole seconds only, so an attempt starts where its first
    JSON log line says the step started (its time less its ``elapsed_s``). A retried
    run's log keeps the attempts of every ``ferry retry``. An attempt ends at its last
    timestamped log line, the task's last attempt at the task's end when the record
    has one. A task that never started has none.
    """
    sections: list[dict[str, Any]] = []
    for line in _log_head_lines(store, record, task):
        header = _ATTEMPT_HEADER.match(line)
        if header and header["task"] == task.name:
            at = datetime.fromisoformat(header["at"])
            sections.append({"number": int(header["number"]), "started": at, "last": None})
            continue
        if not sections or not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        current = sections[-1]
        if isinstance(event.get("ts"), str):
            current["last"] = datetime.fromisoformat(event["ts"])
            elapsed = event.get("elapsed_s")
            if "began" not in current and isinstance(elapsed, int | float):
                current["began"] = current["last"] - timedelta(seconds=elapsed)
        if event.get("event") == "step_failed":
            current["outcome"], current["reason"] = "Failed", event.get("reason")
        elif event.get("event") == "step_finished":
            current["outcome"] = "Succeeded"
    attempts: list[Attempt] = []
    for index, section in enumerate(sections):
        last = index == len(sections) - 1
        finished = section["last"]
        outcome = section.get("outcome")
        if last:
            finished = task.finished or finished
            outcome = outcome or task.status.value
        began = section.get("began") or section["started"]
        attempts.append(
            Attempt(
                number=section["number"],
                started=began.astimezone(UTC),
                finished=finished.astimezone(UTC) if finished else None,
                outcome=outcome or "Failed",
                reason=section.get("reason") or (task.reason if last else None),
            )
        )
    return attempts


def _log_location(store: Location, record: RunRecord, task: TaskRecord) -> Location:
    return run_folder(store, record.pipeline, record.run_id).child("logs", f"{task.name}.log")


def _log_head_lines(store: Location, record: RunRecord, task: TaskRecord) -> Iterator[str]:
    """The lines of the task's log, up to :data:`ATTEMPT_SCAN_BYTES`; none when it is missing."""
    loc = _log_location(store, record, task)
    try:
        with loc.fs.open_input_stream(loc.path) as stream:
            data = bytes(stream.read(ATTEMPT_SCAN_BYTES))
    except (FileNotFoundError, OSError):
        return
    yield from data.decode("utf-8", errors="replace").splitlines()


def read_log_tail(store: Location, record: RunRecord, task: TaskRecord) -> tuple[str, bool]:
    """The last :data:`LOG_TAIL_BYTES` of the task's log and whether it was cut."""
    loc = _log_location(store, record, task)
    try:
        with loc.fs.open_input_file(loc.path) as handle:
            size = handle.size()
            start = max(0, size - LOG_TAIL_BYTES)
            handle.seek(start)
            data = bytes(handle.read(size - start))
    except (FileNotFoundError, OSError):
        return "", False
    text = data.decode("utf-8", errors="replace")
    if start:
        text = text.split("\n", 1)[-1]
    return text, start > 0
