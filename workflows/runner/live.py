"""What a person watching a local run sees: one line per event on stderr, then a summary.

A progress bar is added only when stderr is a terminal, so logs and CI output stay
plain lines.
"""

import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workflows.runner.record import RunRecord, RunStatus, TaskRecord, TaskStatus

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def format_duration(seconds: float | None) -> str:
    """``1.2s``, ``2m03s``, ``1h02m``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def format_rows(task: TaskRecord) -> str:
    """``rows 1,000,000 -> 999,500 (500 rejected)``; empty when the step reported no counts."""
    if task.rows_in is None and task.rows_out is None:
        return ""
    text = f"rows {_count(task.rows_in) or '?'} -> {_count(task.rows_out) or '?'}"
    if task.rows_rejected:
        text += f" ({task.rows_rejected:,} rejected)"
    return text


class LiveView:
    """Prints run events as they happen, on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self._progress: Progress | None = None
        self._bar: TaskID | None = None

    def run_started(self, record: RunRecord) -> None:
        """Announce the run and start the progress bar on a terminal."""
        self._line(f"run {record.run_id} of {record.pipeline}: {len(record.tasks)} steps")
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.console,
                transient=True,
            )
            self._bar = self._progress.add_task(record.pipeline, total=len(record.tasks))
            self._progress.start()

    def task_started(self, task: TaskRecord) -> None:
        """``▶ extract-orders started``."""
        attempt = f" (attempt {task.attempts})" if task.attempts > 1 else ""
        self._line(f"▶ {task.name} started{attempt}")

    def task_retrying(self, task: TaskRecord, retry: int, limit: int, delay: float) -> None:
        """``↻ extract-orders failed: <reason>; retry 2/3 in 10s``."""
        wait = format_duration(delay)
        self._line(f"↻ {task.name} failed: {task.reason}; retry {retry}/{limit} in {wait}")

    def task_finished(self, task: TaskRecord) -> None:
        """``✔ name 1.2s rows ...`` or ``✖ name failed after N attempts: reason``.

        When retries were left but ``retryStrategy.expression`` declined them:
        ``✖ name failed (data rejected, not retried): reason``.
        """
        status = task.status.value.lower()
        if task.status is TaskStatus.SUCCEEDED:
            parts = [f"✔ {task.name}", format_duration(task.duration_seconds), format_rows(task)]
            self._line(" ".join(p for p in parts if p))
        elif task.not_retried:
            self._line(f"✖ {task.name} {status} ({task.not_retried}, not retried): {task.reason}")
        else:
            attempts = "1 attempt" if task.attempts == 1 else f"{task.attempts} attempts"
            self._line(f"✖ {task.name} {status} after {attempts}: {task.reason}")
        if self._progress is not None and self._bar is not None and task.item is None:
            self._progress.advance(self._bar)

    def task_settled(self, task: TaskRecord) -> None:
        """An exit-handler task done without a process.

        ``↷ name skipped: reason``, or ``✔ name created run R`` (a dependency trigger).
        """
        if task.status is TaskStatus.SKIPPED:
            self._line(f"↷ {task.name} skipped: {task.reason}")
        elif task.created_run:
            self._line(f"✔ {task.name} created run {task.created_run}")

    def run_stopping(self, signal_name: str, running: list[str], grace_seconds: float) -> None:
        """``■ SIGTERM: stopping the run; killing a, b (SIGTERM, then SIGKILL after 5.0s)``."""
        what = (
            f"killing {', '.join(running)} (SIGTERM, then SIGKILL after "
            f"{format_duration(grace_seconds)}; a second signal kills at once)"
            if running
            else "no step is running"
        )
        self._line(f"■ {signal_name}: stopping the run; {what}")

    def run_finished(self, record: RunRecord) -> None:
        """Stop the progress bar and print the outcome line."""
        if self._progress is not None:
            self._progress.stop()
        mark = "✔" if record.status is RunStatus.SUCCEEDED else "✖"
        omitted = [t.name for t in record.tasks if t.status is TaskStatus.OMITTED]
        tail = f"; not run: {', '.join(omitted)}" if omitted else ""
        message = f" ({record.message})" if record.message else ""
        self._line(
            f"{mark} run {record.run_id} {record.status.value.lower()} in "
            f"{format_duration(record.duration_seconds)}{message}{tail}"
        )
        for warning in record.warnings():
            self._line(f"⚠ warning: {warning}")

    def _line(self, text: str) -> None:
        self.console.print(escape(text), soft_wrap=True, emoji=False)


def partition_label(task: TaskRecord) -> str:
    """How the summary names one partition: its item's ``key``, else the item itself."""
    try:
        item = json.loads(task.item or "")
    except ValueError:
        return task.item or task.name
    if isinstance(item, dict) and "key" in item:
        return str(item["key"])
    return task.item or task.name


def summary_table(record: RunRecord) -> Table:
    """The end-of-run table: one row per step, a fanned-out step's partitions below it."""
    table = Table(title=f"{record.pipeline} {record.run_id}: {record.status.value}")
    for column in ("step", "status", "attempts", "duration"):
        table.add_column(column)
    for column in ("rows in", "rows out", "rejected", "quality"):
        table.add_column(column, justify="right")
    rows: list[tuple[str, TaskRecord]] = []
    for task in record.tasks:
        rows.append((task.name, task))
        rows += [(f"  └ {partition_label(p)}", p) for p in task.partitions]
    for label, task in rows:
        quality = "" if task.quality_score is None else f"{task.quality_score:.4f}"
        table.add_row(
            escape(label),
            task.status.value,
            str(task.attempts),
            format_duration(task.duration_seconds),
            _count(task.rows_in),
            _count(task.rows_out),
            _count(task.rows_rejected),
            quality,
        )
    return table
