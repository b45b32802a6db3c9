"""Artifacts: the Parquet a step hands to the next, committed by a manifest.

A step's artifact is a folder in the store (see docs/architecture.md). Files are
published whole (temp name + rename locally; a completed multipart upload on S3)
and ``_manifest.json`` is written last, listing exactly those files. A reader
refuses a folder without a manifest and reads only the listed files, so a step
killed mid-write leaves nothing a later step would take for complete.
"""

import json
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from steps.runtime.errors import StepError
from steps.runtime.store import Location, delete_file, exists, read_text, write_text_atomic

if TYPE_CHECKING:
    import pyarrow.dataset as ds

MANIFEST = "_manifest.json"
FORMAT = "ferry-artifact/1"
DATA = "data"
QUARANTINE = "quarantine"
REASON_COLUMN = "_ferry_reason"
DEFAULT_BATCH_SIZE = 65_536
ROWS_PER_FILE = 4_000_000


class _PartWriter:
    """Streams record batches of one part (data or quarantine) into Parquet files."""

    def __init__(self, loc: Location, part: str, token: str) -> None:
        self._loc = loc
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

    def write(self, batch: pa.RecordBatch) -> None:
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
        if self._writer is None:
            self._open()
        assert self._writer is not None
        self._writer.write_batch(batch)
        self.rows += batch.num_rows
        self._rows_in_file += batch.num_rows
        if self._rows_in_file >= ROWS_PER_FILE:
            self._close_file()

    def _open(self) -> None:
        name = f"part-{self._token}-{len(self.files):05d}.parquet"
        self._final_path = f"{self._loc.path}/{self._part}/{name}"
        local = isinstance(self._loc.fs, pafs.LocalFileSystem)
        self._open_path = (
            f"{self._loc.path}/{self._part}/.{name}.tmp" if local else self._final_path
        )
        self._loc.fs.create_dir(f"{self._loc.path}/{self._part}", recursive=True)
        assert self.schema is not None
        self._sink = self._loc.fs.open_output_stream(self._open_path)
        self._writer = pq.ParquetWriter(self._sink, self.schema)
        self._rows_in_file = 0

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
        self.files.append(
            self._final_path.rsplit("/", 2)[-2] + "/" + self._final_path.rsplit("/", 1)[-1]
        )

    def close(self, schema: pa.Schema | None) -> None:
        """Finish the open file; write one empty file when nothing came, to keep the schema."""
        if self.schema is None and schema is not None:
            self.schema = schema
            self._open()
        self._close_file()


class ArtifactWriter:
    """Writes one step's artifact; nothing is visible as complete until :meth:`commit`."""

    def __init__(self, loc: Location, *, pipeline: str, step: str, run_id: str) -> None:
        self.loc = loc
        self._meta = {"pipeline": pipeline, "step": step, "run_id": run_id}
        delete_file(loc.child(MANIFEST))
        token = uuid.uuid4().hex[:8]
        self._parts = {
            DATA: _PartWriter(loc, DATA, token),
            QUARANTINE: _PartWriter(loc, QUARANTINE, token),
        }

    def write(self, batch: pa.RecordBatch) -> None:
        """Append a batch of good rows."""
        self._parts[DATA].write(batch)

    def quarantine(self, batch: pa.RecordBatch) -> None:
        """Append a batch of rejected rows; it must carry a ``_ferry_reason`` column."""
        if REASON_COLUMN not in batch.schema.names:
            raise StepError(
                f"quarantine batch without {REASON_COLUMN!r} column; this is a Ferry bug"
            )
        self._parts[QUARANTINE].write(batch)

    @property
    def rows(self) -> int:
        """Good rows written so far."""
        return self._parts[DATA].rows

    @property
    def rejected(self) -> int:
        """Rejected rows written so far."""
        return self._parts[QUARANTINE].rows

    def commit(self, *, schema: pa.Schema | None = None, **extra: Any) -> dict[str, Any]:
        """Close all files and write the manifest: the artifact becomes readable.

        ``schema`` is used for an empty output so downstream SQL still sees the
        columns. ``extra`` fields (e.g. ``cursor``) are stored in the manifest.
        """
        data, quarantine = self._parts[DATA], self._parts[QUARANTINE]
        data.close(schema)
        quarantine.close(None)
        manifest = {
            "format": FORMAT,
            **self._meta,
            "files": {DATA: data.files, QUARANTINE: quarantine.files},
            "rows": {DATA: data.rows, QUARANTINE: quarantine.rows},
            "schema": data.schema.to_string(show_schema_metadata=False) if data.schema else "",
            **extra,
        }
        write_text_atomic(self.loc.child(MANIFEST), json.dumps(manifest, indent=2, default=str))
        return manifest


class ArtifactReader:
    """Reads a committed artifact: exactly the files its manifest lists."""

    def __init__(self, loc: Location, name: str) -> None:
        self.loc = loc
        self.name = name
        manifest_loc = loc.child(MANIFEST)
        if not exists(manifest_loc):
            raise StepError(
                f"input {name!r} at {loc.uri} is incomplete: no {MANIFEST} (the step that "
                "writes it did not finish); rerun that step"
            )
        self.manifest: dict[str, Any] = json.loads(read_text(manifest_loc))
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
        return isinstance(self.loc.fs, pafs.LocalFileSystem)

    def dataset(self, part: str = DATA) -> "ds.Dataset":
        """A lazy pyarrow dataset over the part's files (streams, pushes projections down)."""
        paths = self.paths(part)
        if not paths:
            raise StepError(f"input {self.name!r} at {self.loc.uri} has no {part} files")
        import pyarrow.dataset as ds  # lazily: steps that let DuckDB read skip its import cost

        return ds.dataset(paths, format="parquet", filesystem=self.loc.fs)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the data part."""
        return self.dataset().schema

    def batches(
        self, batch_size: int = DEFAULT_BATCH_SIZE, part: str = DATA
    ) -> Iterator[pa.RecordBatch]:
        """Stream the part's rows as record batches, one file and one row group at a time.

        A dataset scanner reads ahead without bound whenever the consumer is slower than
        the reader; reading file by file keeps memory bounded by a row group, whatever
        the input size.
        """
        for path in self.paths(part):
            with self.loc.fs.open_input_file(path) as source:
                yield from pq.ParquetFile(source).iter_batches(batch_size=batch_size)
