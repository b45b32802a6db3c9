"""Where run records and task logs live in the store, and how they are read back.

Layout: ``STORE/runs/<pipeline>/<run-id>/run.json`` and ``.../logs/<task>.log``.
``run.json`` is rewritten whole (atomically) after every task event, so a killed
runner still leaves a readable record. On S3 the logs are written to a local folder
and uploaded after each attempt.
"""

from pathlib import Path

import pyarrow.fs as pafs

from steps.runtime.errors import StepUsageError
from steps.runtime.store import Location, open_location, publish_bytes, read_text, write_text_atomic
from workflows.errors import UsageError
from workflows.runner.record import RunRecord

RUN_FILE = "run.json"


def open_store(uri: str) -> Location:
    """Open the store URI, turning a bad one into a usage error (exit 2)."""
    try:
        return open_location(uri)
    except StepUsageError as err:
        raise UsageError(f"--store: {err}") from None


class RunFolder:
    """The folder of one run: its record and its task logs."""

    def __init__(self, store: Location, pipeline: str, run_id: str, scratch: Path) -> None:
        self.location = store.child("runs", pipeline, run_id)
        self._local = store.is_local
        self._log_dir = Path(self.location.path) / "logs" if self._local else scratch / "logs"
        self._log_dir.mkdir(parents=True, exist_ok=True)

    def save(self, record: RunRecord) -> None:
        """Write ``run.json`` whole."""
        write_text_atomic(self.location.child(RUN_FILE), record.model_dump_json(indent=2) + "\n")

    def log_uri(self, task: str) -> str:
        """Where the log of ``task`` ends up in the store."""
        return self.location.child("logs", f"{task}.log").uri

    def log_file(self, task: str) -> Path:
        """The local file the attempts of ``task`` append their output to."""
        return self._log_dir / f"{task}.log"

    def publish_log(self, task: str) -> None:
        """Copy the log of ``task`` into the store (a no-op when the store is a local folder)."""
        if not self._local:
            publish_bytes(
                self.location.child("logs", f"{task}.log"), self.log_file(task).read_bytes()
            )


def list_runs(store: str, pipeline: str | None = None) -> list[RunRecord]:
    """Every recorded run in ``store`` (of ``pipeline`` if given), newest first."""
    root = open_store(store).child("runs", *([pipeline] if pipeline else []))
    selector = pafs.FileSelector(root.path, recursive=True, allow_not_found=True)
    records = []
    for info in root.fs.get_file_info(selector):
        if info.type == pafs.FileType.File and info.base_name == RUN_FILE:
            loc = root.at(info.path)
            records.append(RunRecord.model_validate_json(read_text(loc)))
    return sorted(records, key=lambda r: r.started, reverse=True)
