"""Artifacts: the Parquet a step hands to the next, committed by a manifest.

A step's artifact is a folder in the store (see docs/architecture.md). Files are
published whole (temp name + rename locally; a completed multipart upload on S3)
and ``_manifest.json`` is written last, listing exactly those files. A reader
refuses a folder without a manifest and reads only the listed files, so a step
killed mid-write leaves nothing a later step would take for complete.

A step whose engine writes Parquet itself (DuckDB in ``transform``) hands its files
over with :meth:`ArtifactWriter.publish_files`; they get the same names and the same
commit. pyarrow is imported only where Arrow data is touched, so such a step over
local artifacts never loads it.
"""

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from steps.runtime.artifact_compression import artifact_compression
from steps.runtime.errors import StepError
from steps.runtime.partition_union import union_manifest
from steps.runtime.phases import NO_PHASES, Phases
from steps.runtime.store import (
    Location,
    delete_file,
    delete_folder,
    exists,
    local_filesystem,
    read_text,
    write_text_atomic,
)
from steps.runtime.write_behind import WriteBehind

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

MANIFEST = "_manifest.json"
FORMAT = "ferry-artifact/1"
DATA = "data"
QUARANTINE = "quarantine"
REASON_COLUMN = "_ferry_reason"
REPORT = "report.json"
"""A checks step's quality report, next to its manifest (rows, score, rule failures)."""
DEFAULT_BATCH_SIZE = 65_536
ROWS_PER_FILE = 4_000_000
STAGING_PREFIX = ".staging-"
DICTIONARY_SAMPLE_ROWS = 4096
"""Fewest rows in a part's first batch to judge which columns are dictionary-encoded."""
DICTIONARY_MAX_DISTINCT = 0.5
"""A column is dictionary-encoded when at most this share of the sampled values differ."""


def _statistics_columns(schema: "pa.Schema") -> "bool | list[str]":
    """The columns whose min/max the footers keep: all but text and binary.

    The min and max of a text column cost a comparison of every value (a quarter of
    the time it takes to write the demo's orders) and prune little between steps,
    where text is seldom sorted; numbers, dates and times keep theirs, which
    ``unique`` reads to size its one-pass check and DuckDB uses to skip row groups.
    Datasets a load writes keep every statistic.
    """
    import pyarrow as pa

    if any(pa.types.is_nested(field.type) for field in schema):
        return True  # column paths of nested values are not top-level names
    text = (
        pa.types.is_string,
        pa.types.is_large_string,
        pa.types.is_binary,
        pa.types.is_large_binary,
    )
    return [field.name for field in schema if not any(is_text(field.type) for is_text in text)]


class _PartWriter:
    """Streams record batches of one part (data or quarantine) into Parquet files."""

    def __init__(
        self, loc: Location, part: str, token: str, writes: WriteBehind, compression: str
    ) -> None:
        self._loc = loc
        self._compression = compression
        self._writes = writes
        self._part = part
        self._token = token
        self._writer: pq.ParquetWriter | None = None
        self._sink: pa.NativeFile | None = None
        self._final_path = ""
        self._open_path = ""
        self._rows_in_file = 0
        self.files: list[str] = []
        self.rows = 0
        self.schema: pa.Schema | None = None
        self.schema_text = ""
        self._dictionary: list[str] | None = None

    @property
    def folder(self) -> Location:
        """Where this part's files go."""
        return self._loc.child(self._part)

    def _next_name(self) -> str:
        return f"part-{self._token}-{len(self.files):05d}.parquet"

    def write(self, batch: "pa.RecordBatch") -> None:
        if batch.num_rows == 0 and self.schema is not None:
            return
        if self.schema is None:
            self.schema = batch.schema
        elif batch.schema != self.schema:
            batch = batch.cast(self.schema) if batch.schema.names == self.schema.names else batch
            if batch.schema != self.schema:
                raise StepError(
                    f"{self._part} batch schema changed mid-stream in {self._loc.uri}: "
                    f"expected {self.schema}, got {batch.schema}; declare the schema in the config"
                )
        self.rows += batch.num_rows
        self._writes.submit(lambda: self._write_now(batch))

    def _write_now(self, batch: "pa.RecordBatch") -> None:
        """Write on the writer thread, the only one touching the open file until close."""
        if self._writer is None:
            self._open(batch)
        assert self._writer is not None
        self._writer.write_batch(batch)
        self._rows_in_file += batch.num_rows
        if self._rows_in_file >= ROWS_PER_FILE:
            self._close_file()

    def _open(self, first: "pa.RecordBatch | None" = None) -> None:
        import pyarrow.parquet as pq

        name = self._next_name()
        self._final_path = f"{self.folder.path}/{name}"
        self._open_path = (
            f"{self.folder.path}/.{name}.tmp" if self._loc.is_local else self._final_path
        )
        self._loc.fs.create_dir(self.folder.path, recursive=True)
        assert self.schema is not None
        self._sink = self._loc.fs.open_output_stream(self._open_path)
        self._writer = pq.ParquetWriter(
            self._sink,
            self.schema,
            use_dictionary=self._dictionary_columns(first),
            write_statistics=_statistics_columns(self.schema),
            compression=self._compression,
        )
        self._rows_in_file = 0

    def _dictionary_columns(self, first: "pa.RecordBatch | None") -> "bool | list[str]":
        """The columns worth dictionary-encoding, judged on the file's first batch.

        A column whose values mostly differ (ids, emails, times) gains nothing from a
        dictionary, yet trying one for every row group costs about half the time of
        writing it. Encoding only: what is read back is the same.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._dictionary is not None:
            return self._dictionary
        if first is None or first.num_rows < DICTIONARY_SAMPLE_ROWS:
            return True  # too few rows to judge: pyarrow's default
        if any(pa.types.is_nested(field.type) for field in first.schema):
            return True  # column paths of nested values are not top-level names
        self._dictionary = [
            name
            for name, column in zip(first.schema.names, first.columns, strict=True)
            if pc.count_distinct(column).as_py() <= DICTIONARY_MAX_DISTINCT * len(column)
        ]
        return self._dictionary

    def adopt(self, local_file: str) -> None:
        """Make a finished local Parquet file one of this part's files.

        Locally it is renamed into place (the file must be on the same filesystem);
        on S3 it is uploaded, and the upload appears whole when it completes.
        """
        name = self._next_name()
        final = self.folder.child(name)
        if self._loc.is_local:
            os.replace(local_file, final.path)
        else:
            import pyarrow.fs as pafs

            pafs.copy_files(
                local_file,
                final.path,
                source_filesystem=local_filesystem(),
                destination_filesystem=self._loc.fs,
            )
            os.remove(local_file)
        self.files.append(f"{self._part}/{name}")

    def _close_file(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        assert self._sink is not None
        self._sink.close()  # ParquetWriter does not close a sink it was given
        self._sink = None
        if self._open_path != self._final_path:
            os.replace(self._open_path, self._final_path)
        self.files.append(f"{self._part}/{self._final_path.rsplit('/', 1)[-1]}")

    def close(self, schema: "pa.Schema | None") -> None:
        """Finish the open file; write one empty file when nothing came, to keep the schema."""
        if self.schema is None and schema is not None:
            self.schema = schema
            self._open()
        self._close_file()


class ArtifactWriter:
    """Writes one step's artifact; nothing is visible as complete until :meth:`commit`.

    Opening a writer first removes the artifact's manifest, then the data and
    quarantine files of any earlier attempt, so a retry leaves no extra rows even
    for a reader that globs the folders instead of following the manifest.
    """

    def __init__(
        self,
        loc: Location,
        *,
        pipeline: str,
        step: str,
        run_id: str,
        phases: Phases = NO_PHASES,
    ) -> None:
        self.loc = loc
        self._meta = {"pipeline": pipeline, "step": step, "run_id": run_id}
        self._phases = phases
        self.compression = artifact_compression(loc)
        """The Parquet codec of the artifact's files; an engine writing them uses it too."""
        delete_file(loc.child(MANIFEST))
        for part in (DATA, QUARANTINE):  # an earlier attempt's files, unlisted from now on
            delete_folder(loc.child(part))
        token = uuid.uuid4().hex[:8]
        self._writes = WriteBehind()
        self._parts = {
            DATA: _PartWriter(loc, DATA, token, self._writes, self.compression),
            QUARANTINE: _PartWriter(loc, QUARANTINE, token, self._writes, self.compression),
        }
        self._staging: list[str] = []

    def write(self, batch: "pa.RecordBatch") -> None:
        """Append a batch of good rows."""
        self._parts[DATA].write(batch)

    def quarantine(self, batch: "pa.RecordBatch") -> None:
        """Append a batch of rejected rows; it must carry a ``_ferry_reason`` column."""
        if REASON_COLUMN not in batch.schema.names:
            raise StepError(
                f"quarantine batch without {REASON_COLUMN!r} column; this is a Ferry bug"
            )
        self._parts[QUARANTINE].write(batch)

    def staging_folder(self, scratch: str) -> str:
        """A new, empty local folder for an engine to write data files into.

        For a local store it is a hidden folder inside the artifact's ``data/``, so
        :meth:`publish_files` only renames (one a killed attempt left there went with
        that attempt's files when this writer opened). For S3 it is a folder inside
        ``scratch``, uploaded from.
        """
        if self.loc.is_local:
            parent = self._parts[DATA].folder.path
            os.makedirs(parent, exist_ok=True)
        else:
            parent = scratch
        folder = os.path.join(parent, f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}")
        os.makedirs(folder)
        self._staging.append(folder)
        return folder

    def publish_files(self, files: list[str], *, rows: int, schema_text: str) -> None:
        """Add finished Parquet files (``rows`` rows in all) as the artifact's data.

        ``schema_text`` describes their columns in the manifest. The files are moved,
        not copied, and the staging folders removed; the artifact becomes readable
        only at :meth:`commit`.
        """
        self._writes.drain()
        data = self._parts[DATA]
        for path in files:
            data.adopt(path)
        data.rows += rows
        data.schema_text = schema_text
        self.remove_staging()

    def remove_staging(self) -> None:
        """Remove the staging folders handed out, and whatever is still in them."""
        for folder in self._staging:
            shutil.rmtree(folder, ignore_errors=True)
        self._staging.clear()

    @property
    def rows(self) -> int:
        """Good rows written so far."""
        return self._parts[DATA].rows

    @property
    def rejected(self) -> int:
        """Rejected rows written so far."""
        return self._parts[QUARANTINE].rows

    def close(self) -> None:
        """Stop the background writes of an artifact that is not committed (a failed step).

        Writes still queued are dropped and the thread is joined; nothing becomes
        readable, and the files already written go with the next attempt's writer.
        After :meth:`commit` it does nothing.
        """
        self._writes.cancel()

    def commit(self, *, schema: "pa.Schema | None" = None, **extra: Any) -> dict[str, Any]:
        """Close all files and write the manifest: the artifact becomes readable.

        ``schema`` is used for an empty output so downstream SQL still sees the
        columns. ``extra`` fields (e.g. ``cursor``) are stored in the manifest.
        """
        with self._phases.phase("write", artifact=self.loc.uri) as phase:
            self._writes.close()
            data, quarantine = self._parts[DATA], self._parts[QUARANTINE]
            data.close(schema)
            quarantine.close(None)
            manifest = {
                "format": FORMAT,
                **self._meta,
                "files": {DATA: data.files, QUARANTINE: quarantine.files},
                "rows": {DATA: data.rows, QUARANTINE: quarantine.rows},
                "schema": (
                    data.schema.to_string(show_schema_metadata=False)
                    if data.schema
                    else data.schema_text
                ),
                **extra,
            }
            write_text_atomic(self.loc.child(MANIFEST), json.dumps(manifest, indent=2, default=str))
            phase.set(rows_out=data.rows, rows_rejected=quarantine.rows)
        return manifest


class ArtifactReader:
    """Reads a committed artifact: exactly the files its manifest lists.

    The artifact of a fanned-out step has no manifest of its own: it is the union of
    its committed partition artifacts (``steps.runtime.partition_union``).
    """

    def __init__(self, loc: Location, name: str) -> None:
        self.loc = loc
        self.name = name
        manifest_loc = loc.child(MANIFEST)
        union = None if exists(manifest_loc) else union_manifest(loc, name, MANIFEST)
        if union is not None:
            self.manifest: dict[str, Any] = union
            return
        if not exists(manifest_loc):
            raise StepError(
                f"input {name!r} at {loc.uri} is incomplete: no {MANIFEST} (the step that "
                "writes it did not finish); rerun that step"
            )
        self.manifest = json.loads(read_text(manifest_loc))
        if self.manifest.get("format") != FORMAT:
            raise StepError(
                f"input {name!r} at {loc.uri} has unknown format {self.manifest.get('format')!r}; "
                f"expected {FORMAT}"
            )

    def paths(self, part: str = DATA) -> list[str]:
        """Filesystem paths of the part's files."""
        return [f"{self.loc.path}/{f}" for f in self.manifest["files"].get(part, [])]

    def uris(self, part: str = DATA) -> list[str]:
        """URIs (local paths or s3://) of the part's files."""
        return [f"{self.loc.uri}/{f}" for f in self.manifest["files"].get(part, [])]

    @property
    def rows(self) -> int:
        """Good rows in the artifact."""
        return int(self.manifest["rows"][DATA])

    @property
    def rejected(self) -> int:
        """Quarantined rows in the artifact."""
        return int(self.manifest["rows"].get(QUARANTINE, 0))

    @property
    def is_local(self) -> bool:
        """Whether the files are on the local filesystem (DuckDB can read them directly)."""
        return self.loc.is_local

    def dataset(self, part: str = DATA) -> "ds.Dataset":
        """A lazy pyarrow dataset over the part's files (streams, pushes projections down)."""
        paths = self.paths(part)
        if not paths:
            raise StepError(f"input {self.name!r} at {self.loc.uri} has no {part} files")
        import pyarrow.dataset as ds  # lazily: steps that let DuckDB read skip its import cost

        return ds.dataset(paths, format="parquet", filesystem=self.loc.fs)

    @property
    def schema(self) -> "pa.Schema":
        """The Arrow schema of the data part."""
        return self.dataset().schema

    def batches(
        self, batch_size: int = DEFAULT_BATCH_SIZE, part: str = DATA
    ) -> Iterator["pa.RecordBatch"]:
        """Stream the part's rows as record batches, one file and one row group at a time.

        A dataset scanner reads ahead without bound whenever the consumer is slower than
        the reader; reading file by file keeps memory bounded by a row group, whatever
        the input size.
        """
        import pyarrow.parquet as pq

        for path in self.paths(part):
            with self.loc.fs.open_input_file(path) as source:
                yield from pq.ParquetFile(source).iter_batches(batch_size=batch_size)
