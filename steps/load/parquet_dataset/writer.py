"""Write a stream of record batches into a Parquet dataset: stage everything, then publish.

A load first writes all its files under ``<dataset>/_staging/<run>-<step>/`` (hidden
from Parquet readers by the leading ``_``), then publishes: it removes the files the
mode replaces, moves the staged files into place (a rename locally; a server-side copy
plus delete on S3, each object appearing whole) and writes a commit record under
``_ferry_commits/``. A load killed before publishing leaves only hidden staging files,
which the next attempt removes. Files are named ``part-<run>-<step>-<n>.parquet``, so a
retry of the same run's load replaces its own earlier files instead of adding to them.
"""

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from steps.runtime.store import Location, write_text_atomic

STAGING = "_staging"
COMMITS = "_ferry_commits"
COMMIT_FORMAT = "ferry-load/1"
MAX_ROWS_PER_GROUP = 1 << 18


@dataclass(frozen=True)
class StagedFile:
    """A file written to the staging folder: its path relative to the dataset, its rows."""

    relative: str
    rows: int


def _is_visible_data(relative: str) -> bool:
    parts = relative.split("/")
    return relative.endswith(".parquet") and not any(p.startswith(("_", ".")) for p in parts)


class ParquetDatasetWriter:
    """Stages and publishes one load (one run, one step) into the dataset at ``root``."""

    def __init__(self, root: Location, *, run_id: str, step: str) -> None:
        self.root = root
        self.run_id = run_id
        self.step = step
        self.staging = root.child(STAGING, f"{run_id}-{step}")
        self._own = re.compile(rf"part-{re.escape(run_id)}-{re.escape(step)}-\d+\.parquet")

    def _is_local(self) -> bool:
        return isinstance(self.root.fs, pafs.LocalFileSystem)

    def _remove_staging(self) -> None:
        if self.root.fs.get_file_info(self.staging.path).type != pafs.FileType.NotFound:
            self.root.fs.delete_dir(self.staging.path)

    def stage(
        self,
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
        *,
        partition_by: list[str],
        batch_size: int,
        max_rows_per_file: int,
    ) -> list[StagedFile]:
        """Write every batch under the staging folder; nothing is visible to readers yet."""
        self._remove_staging()
        staged: list[StagedFile] = []
        prefix = self.staging.path.rstrip("/") + "/"

        def visit(written: Any) -> None:
            staged.append(StagedFile(written.path[len(prefix) :], written.metadata.num_rows))

        rows_per_group = min(max_rows_per_file, MAX_ROWS_PER_GROUP)
        partitioning = (
            ds.partitioning(pa.schema([schema.field(c) for c in partition_by]), flavor="hive")
            if partition_by
            else None
        )
        ds.write_dataset(
            pa.RecordBatchReader.from_batches(schema, batches),
            base_dir=self.staging.path,
            filesystem=self.root.fs,
            format="parquet",
            partitioning=partitioning,
            basename_template=f"part-{self.run_id}-{self.step}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_file=max_rows_per_file,
            max_rows_per_group=rows_per_group,
            min_rows_per_group=min(batch_size, rows_per_group),
            file_visitor=visit,
        )
        return sorted(staged, key=lambda f: f.relative)

    def existing_files(self) -> list[str]:
        """Data files readers see now, relative to the dataset (hidden names excluded)."""
        selector = pafs.FileSelector(self.root.path, recursive=True, allow_not_found=True)
        prefix = self.root.path.rstrip("/") + "/"
        relatives = (
            info.path[len(prefix) :]
            for info in self.root.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
        )
        return sorted(r for r in relatives if _is_visible_data(r))

    def files_to_replace(self, staged: list[StagedFile], mode: str) -> list[str]:
        """The existing files this load removes: its own earlier files plus the mode's."""
        new = {f.relative for f in staged}
        partitions = {posixpath.dirname(f.relative) for f in staged}
        replaced = []
        for relative in self.existing_files():
            own = self._own.fullmatch(posixpath.basename(relative)) is not None
            if (
                own
                or mode == "overwrite"
                or (mode == "overwrite-partitions" and posixpath.dirname(relative) in partitions)
            ) and relative not in new:
                replaced.append(relative)
        return replaced

    def publish(self, staged: list[StagedFile], mode: str, **record: Any) -> dict[str, Any]:
        """Remove the replaced files, move the staged ones into place, record the commit."""
        removed = self.files_to_replace(staged, mode)
        fs = self.root.fs
        for relative in removed:
            fs.delete_file(self.root.child(relative).path)
        for file in staged:
            target = self.root.child(file.relative).path
            fs.create_dir(posixpath.dirname(target), recursive=True)
            fs.move(self.staging.child(file.relative).path, target)
        commit = {
            "format": COMMIT_FORMAT,
            "run_id": self.run_id,
            "step": self.step,
            "mode": mode,
            "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": [f.relative for f in staged],
            "rows": sum(f.rows for f in staged),
            "removed_files": len(removed),
            **record,
        }
        write_text_atomic(
            self.root.child(COMMITS, self.run_id, f"{self.step}.json"),
            json.dumps(commit, indent=2),
        )
        self._remove_staging()
        return commit
