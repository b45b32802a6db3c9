"""What a run's steps counted, read back from the artifacts they committed to the store.

An alert needs rows in, out and rejected per step and the quality score of each
checks step. They are not passed as parameters (data never travels through the
orchestrator, and an exit handler sees no task outputs): every step of the run
committed an artifact under ``STORE/artifacts/<run-id>/<step>/`` whose manifest
holds its rows and quarantined rows, a checks step's ``report.json`` its rows in
and quality score, and a transform's or Python step's ``rows_read`` the rows it
read per input. Targets write no artifact, so they are not among the steps; a step
that died before its commit left no manifest and is not either.
"""

import json
import os
from dataclasses import dataclass

from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import MANIFEST, REPORT, ArtifactReader
from steps.runtime.store import Location, exists, read_text


@dataclass(frozen=True)
class StepRows:
    """The rows one step of the run accounted for."""

    step: str
    rows_in: int
    rows_out: int
    rows_rejected: int
    quality_score: float
    checks: bool
    """Whether this is a checks step (it wrote a quality report)."""


@dataclass(frozen=True)
class RunRows:
    """The rows of every step of one run that committed an artifact, by step name."""

    steps: tuple[StepRows, ...]

    @property
    def rows_in(self) -> int:
        """Rows in, summed over the steps."""
        return sum(s.rows_in for s in self.steps)

    @property
    def rows_out(self) -> int:
        """Rows out, summed over the steps."""
        return sum(s.rows_out for s in self.steps)

    @property
    def rows_rejected(self) -> int:
        """Rows rejected (quarantined), summed over the steps."""
        return sum(s.rows_rejected for s in self.steps)

    @property
    def rejected_share(self) -> float:
        """Rejected rows over rows in, both summed over the steps; 0 when no row came in."""
        return 0.0 if self.rows_in == 0 else self.rows_rejected / self.rows_in

    def checks_steps(self) -> list[StepRows]:
        """The checks steps, lowest quality score first."""
        return sorted((s for s in self.steps if s.checks), key=lambda s: (s.quality_score, s.step))


def run_artifacts(store: Location, run_id: str) -> Location:
    """Where the run's artifacts are: ``STORE/artifacts/<run-id>``."""
    return store.child("artifacts", run_id)


def _step_folders(folder: Location) -> list[str]:
    """Names of the step folders under ``folder``, sorted; none when it does not exist."""
    if folder.is_local:
        if not os.path.isdir(folder.path):
            return []
        names = [n for n in os.listdir(folder.path) if os.path.isdir(os.path.join(folder.path, n))]
    else:
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(folder.path, allow_not_found=True)
        infos = folder.fs.get_file_info(selector)
        names = [i.base_name for i in infos if i.type == pafs.FileType.Directory]
    return sorted(n for n in names if not n.startswith("."))


def _step_rows(step: str, reader: ArtifactReader) -> StepRows:
    report_loc = reader.loc.child(REPORT)
    if exists(report_loc):
        report = json.loads(read_text(report_loc))
        return StepRows(
            step=step,
            rows_in=int(report["rows_in"]),
            rows_out=int(report["rows_out"]),
            rows_rejected=int(report["rows_rejected"]),
            quality_score=float(report["quality_score"]),
            checks=True,
        )
    rows_read = reader.manifest.get("rows_read")
    preserving = not isinstance(rows_read, dict)
    rows_in = (
        reader.rows + reader.rejected
        if preserving
        else sum(int(n) for n in dict(rows_read or {}).values())
    )
    counts = RowCounts(
        rows_in=rows_in,
        rows_out=reader.rows,
        rows_rejected=reader.rejected,
        preserving=preserving,
    )
    return StepRows(
        step=step,
        rows_in=counts.rows_in,
        rows_out=counts.rows_out,
        rows_rejected=counts.rows_rejected,
        quality_score=round(counts.quality_score, 6),
        checks=False,
    )


def read_run_rows(store: Location, run_id: str) -> RunRows:
    """The rows of every step of run ``run_id`` that committed an artifact to ``store``.

    Raises:
        OSError: the store cannot be listed or read.
        ValueError: a manifest or report is not the JSON Ferry writes.
        KeyError: a report lacks a count.
    """
    folder = run_artifacts(store, run_id)
    steps = []
    for step in _step_folders(folder):
        loc = folder.child(step)
        if not exists(loc.child(MANIFEST)):
            continue
        steps.append(_step_rows(step, ArtifactReader(loc, step)))
    return RunRows(tuple(steps))
