"""The local runner: execute the rendered Workflow YAML as subprocesses on this machine.

The manifest is the only input (never the Python pipeline objects), so a local run
tests exactly what ``argo submit`` would get. What the runner cannot honour it
refuses by name before starting anything.
"""

from workflows.runner.errors import ManifestRefused
from workflows.runner.live import LiveView, summary_table
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, TaskStatus
from workflows.runner.run import load_manifest_file, run_manifest
from workflows.runner.run_store import RunListing, list_runs, read_runs

__all__ = [
    "LiveView",
    "ManifestRefused",
    "RunListing",
    "RunRecord",
    "RunStatus",
    "TaskRecord",
    "TaskStatus",
    "list_runs",
    "load_manifest_file",
    "read_runs",
    "run_manifest",
    "summary_table",
]
