"""Write a stream of record batches into a Parquet dataset: stage everything, then publish.

A load first writes all its files under ``<parent>/.<dataset>.ferry-staging/<load>-<step>/``:
outside the dataset folder, because DuckDB's ``**/*.parquet`` glob reads hidden folders
inside it too, and next to it, so a local publish is a rename on the same file system.
Then it publishes: it writes a publish plan (with the commit record it will write),
removes the files the mode replaces, moves the staged files into place (a rename
locally; a server-side copy plus delete on S3, each object appearing whole) and writes
the commit record under ``_ferry_commits/``. A load killed before publishing leaves only
staging files, which the next attempt removes; a load killed while publishing leaves
its plan, which the next attempt carries out first. Files are named
``part-<load>-<step>-<n>.parquet``, ``<load>`` being the load's identity
(``steps.runtime.load_identity``: the run id, or the data interval of an append), so a
repeated load replaces its own earlier files instead of adding to them.

A staging folder names its owner (``_owner.json``: run, step, host, pid, start). After
publishing, a load sweeps the staging folders its step's killed loads left behind: an
owner on this host whose process is gone, or any owner older than
``STALE_AFTER_SECONDS``; a leftover publish plan is carried out, the rest removed.
"""

import json
import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from steps.load.parquet_dataset.files import PartitionedFiles, WrittenFile
from steps.load.parquet_dataset.hive import data_schema, split_by_partition
from steps.runtime.load_identity import LoadIdentity
from steps.runtime.process import pid_alive, this_host
from steps.runtime.store import Location, exists, read_text, write_text_atomic

STAGING_SUFFIX = ".ferry-staging"
LEGACY_STAGING = "_staging"
COMMITS = "_ferry_commits"
PUBLISH_PLAN = "_publish.json"
OWNER_FILE = "_owner.json"
STALE_AFTER_SECONDS = 24 * 3600
"""A staging folder whose owner started longer ago than this is a leftover: twice the
default run deadline, so no live attempt (each has a deadline) can still own it."""
COMMIT_FORMAT = "ferry-load/1"
MAX_ROWS_PER_GROUP = 1 << 18


def _is_visible_data(relative: str) -> bool:
    parts = relative.split("/")
    return relative.endswith(".parquet") and not any(p.startswith(("_", ".")) for p in parts)


def staging_area(root: Location) -> Location:
    """The hidden sibling folder of the dataset ``root`` where its loads stage their files."""
    parent, _, name = root.path.rstrip("/").rpartition("/")
    uri_parent = root.uri.rstrip("/").rpartition("/")[0]
    return Location(f"{parent}/.{name}{STAGING_SUFFIX}", f"{uri_parent}/.{name}{STAGING_SUFFIX}")


class ParquetDatasetWriter:
    """Stages and publishes one load (one run, one step) into the dataset at ``root``."""

    def __init__(
        self, root: Location, *, run_id: str, step: str, identity: LoadIdentity | None = None
    ) -> None:
        self.root = root
        self.run_id = run_id
        self.step = step
        self.identity = identity or LoadIdentity(key=run_id, slug=run_id, interval=None)
        slug = self.identity.slug
        self.staging = staging_area(root).child(f"{slug}-{step}")
        self._legacy_staging = root.child(LEGACY_STAGING, f"{slug}-{step}")
        self.file_prefix = f"part-{slug}-{step}"
        self._own = re.compile(rf"{re.escape(self.file_prefix)}-\d+\.parquet")

    def start(self) -> None:
        """Finish a publish an earlier attempt was killed in, clear the staging folder, own it.

        Earlier versions staged inside the dataset (``_staging/``), which DuckDB reads; a
        folder left there by this load and step is finished and removed the same way.
        """
        for staging in (self._legacy_staging, self.staging):
            self._finish_plan(staging)
            self._delete(staging)
        owner = {
            "run_id": self.run_id,
            "step": self.step,
            "load": self.identity.key,
            "host": this_host(),
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text_atomic(self.staging.child(OWNER_FILE), json.dumps(owner))

    def sweep_leftovers(self) -> list[str]:
        """Clear the staging folders killed loads of this step left; return their names.

        A leftover with a publish plan had decided to commit: its plan is carried out
        (as its own next attempt would have), so no half-published load stays half.
        A folder whose owner may still be at work (another interval loading at the same
        time) is left alone.
        """
        area = staging_area(self.root)
        selector = pafs.FileSelector(area.path, recursive=False, allow_not_found=True)
        swept = []
        for info in self.root.fs.get_file_info(selector):
            name = posixpath.basename(info.path)
            if info.type != pafs.FileType.Directory or name == posixpath.basename(
                self.staging.path
            ):
                continue
            folder = area.child(name)
            if self._is_leftover(folder, name):
                self._finish_plan(folder)
                self._delete(folder)
                swept.append(name)
        return swept

    def _is_leftover(self, folder: Location, name: str) -> bool:
        owner_file = folder.child(OWNER_FILE)
        if not exists(owner_file):
            # Staged by a version without owner files: this step's by name, stale by age.
            stale = self._age_seconds(folder) > STALE_AFTER_SECONDS
            return name.endswith(f"-{self.step}") and stale
        try:
            owner = json.loads(read_text(owner_file))
            started = datetime.fromisoformat(owner["started_at"])
        except (ValueError, KeyError, TypeError):
            return False
        if owner.get("step") != self.step:
            return False
        if owner.get("host") == this_host() and not pid_alive(int(owner.get("pid", 0))):
            return True
        return (datetime.now(UTC) - started).total_seconds() > STALE_AFTER_SECONDS

    def _age_seconds(self, folder: Location) -> float:
        """Seconds since the newest file in ``folder`` was written (infinite when empty)."""
        selector = pafs.FileSelector(folder.path, recursive=True, allow_not_found=True)
        times = [
            i.mtime.timestamp()
            for i in self.root.fs.get_file_info(selector)
            if i.type == pafs.FileType.File and i.mtime is not None
        ]
        return datetime.now(UTC).timestamp() - max(times) if times else float("inf")

    def _finish_plan(self, staging: Location) -> None:
        """Carry out the publish plan a killed attempt left in ``staging``, if any."""
        plan_file = staging.child(PUBLISH_PLAN)
        if not exists(plan_file):
            return
        plan = json.loads(read_text(plan_file))
        self._carry_out(staging, plan["remove"], plan["move"])
        if "commit" in plan and "commit_path" in plan:
            write_text_atomic(
                self.root.child(*plan["commit_path"]), json.dumps(plan["commit"], indent=2)
            )

    def discard(self) -> None:
        """Remove this load's staged files after it failed before publishing.

        Best effort: the original error matters more, and the next attempt clears
        whatever is left. A rejected load (exit 2 or 3) has no next attempt, so without
        this its staged copy of the data would stay behind.
        """
        with suppress(OSError, pa.ArrowException):
            self._delete(self.staging)

    def stage(
        self,
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
        *,
        partition_by: list[str],
        batch_size: int,
        max_rows_per_file: int,
        folder: str = "",
    ) -> list[WrittenFile]:
        """Write every batch under the staging folder; nothing is visible to readers yet.

        ``folder`` is a sub-folder of the staging folder to write into (the merge mode
        stages its input apart from the files it publishes).
        """
        files = self.staging_files(
            data_schema(schema, partition_by),
            folder=folder,
            rows_per_group=min(batch_size, max_rows_per_file, MAX_ROWS_PER_GROUP),
            max_rows_per_file=max_rows_per_file,
        )
        for batch in batches:
            for partition, rows in split_by_partition(batch, partition_by):
                files.write(partition, rows)
        return files.close()

    def staging_files(
        self, schema: pa.Schema, *, folder: str, rows_per_group: int, max_rows_per_file: int
    ) -> PartitionedFiles:
        """A partitioned file writer into ``folder`` of the staging area."""
        base = self.staging.child(folder).path if folder else self.staging.path
        return PartitionedFiles(
            self.root.fs,
            base,
            schema,
            prefix=self.file_prefix,
            rows_per_group=rows_per_group,
            max_rows_per_file=max_rows_per_file,
        )

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

    def files_to_replace(self, staged: list[WrittenFile], mode: str) -> list[str]:
        """The existing files this load removes: its own earlier files plus the mode's."""
        new = {f.relative for f in staged}
        partitions = {posixpath.dirname(f.relative) for f in staged}
        replace_partitions = mode in ("overwrite-partitions", "merge")
        replaced = []
        for relative in self.existing_files():
            own = self._own.fullmatch(posixpath.basename(relative)) is not None
            if (
                own
                or mode == "overwrite"
                or (replace_partitions and posixpath.dirname(relative) in partitions)
            ) and relative not in new:
                replaced.append(relative)
        return replaced

    def publish(
        self, staged: list[WrittenFile], mode: str, *, rows: int, **record: Any
    ) -> dict[str, Any]:
        """Write the plan, remove the replaced files, move the staged ones, record the commit.

        ``rows`` is the number of input rows this load delivered; ``record`` adds fields
        to the commit record.
        """
        removed = self.files_to_replace(staged, mode)
        moved = [f.relative for f in staged]
        interval = self.identity.interval
        commit = {
            "format": COMMIT_FORMAT,
            "run_id": self.run_id,
            "step": self.step,
            "mode": mode,
            **({"interval": list(interval)} if interval else {}),
            "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": moved,
            "rows": rows,
            "removed_files": len(removed),
            **record,
        }
        commit_path = [COMMITS, self.identity.slug, f"{self.step}.json"]
        plan = {"remove": removed, "move": moved, "commit": commit, "commit_path": commit_path}
        write_text_atomic(self.staging.child(PUBLISH_PLAN), json.dumps(plan))
        self._carry_out(self.staging, removed, moved)
        write_text_atomic(self.root.child(*commit_path), json.dumps(commit, indent=2))
        self._delete(self.staging)
        return commit

    def _delete(self, folder: Location) -> None:
        if self.root.fs.get_file_info(folder.path).type != pafs.FileType.NotFound:
            self.root.fs.delete_dir(folder.path)

    def _carry_out(self, staging: Location, remove: list[str], move: list[str]) -> None:
        """Remove then move; every step may already be done by a killed earlier attempt."""
        fs = self.root.fs
        for relative in remove:
            if exists(self.root.child(relative)):
                fs.delete_file(self.root.child(relative).path)
        for relative in move:
            source = staging.child(relative)
            if exists(source):
                target = self.root.child(relative).path
                fs.create_dir(posixpath.dirname(target), recursive=True)
                fs.move(source.path, target)
