"""Stream record batches into Parquet files, one folder per partition, in bounded memory.

Rows are buffered per folder until they fill a row group (``rows_per_group``), then
written through that folder's open ``ParquetWriter``. Memory stays bounded however
large the input and however many partitions it has:

- at most ``MAX_OPEN_FILES`` writers are open at once; opening one more closes the
  least recently used, and that folder's next rows start a new file;
- when the buffered rows of all folders exceed ``MAX_BUFFERED_BYTES``, the largest
  buffers are written out early (as smaller row groups);
- a file is closed when it holds ``max_rows_per_file`` rows.

Files are named ``<prefix>-<n>.parquet`` with ``n`` counting up from 0 per folder, so
the same input in the same order always gives the same names.
"""

import posixpath
from collections import OrderedDict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

MAX_OPEN_FILES = 32
MAX_BUFFERED_BYTES = 64 << 20


@dataclass(frozen=True)
class WrittenFile:
    """A finished Parquet file: its path relative to the base folder, and its rows."""

    relative: str
    rows: int


@dataclass
class _Folder:
    """One partition folder: its open file (if any), its buffered rows, its file count."""

    name: str
    files: int = 0
    writer: pq.ParquetWriter | None = None
    relative: str = ""
    rows_in_file: int = 0
    pending: list[pa.RecordBatch] = field(default_factory=list)
    pending_rows: int = 0
    pending_bytes: int = 0


class PartitionedFiles:
    """Writes batches into ``<base>/<folder>/<prefix>-<n>.parquet`` files."""

    def __init__(
        self,
        fs: pafs.FileSystem,
        base: str,
        schema: pa.Schema,
        *,
        prefix: str,
        rows_per_group: int,
        max_rows_per_file: int,
    ) -> None:
        self._fs = fs
        self._base = base.rstrip("/")
        self._schema = schema
        self._prefix = prefix
        self._rows_per_group = rows_per_group
        self._max_rows_per_file = max_rows_per_file
        self._folders: dict[str, _Folder] = {}
        self._open: OrderedDict[str, _Folder] = OrderedDict()
        self._buffered_bytes = 0
        self.written: list[WrittenFile] = []

    def write(self, folder: str, batch: pa.RecordBatch) -> None:
        """Add ``batch`` (rows of the file schema) to the partition ``folder``."""
        if batch.num_rows == 0:
            return
        state = self._folders.setdefault(folder, _Folder(folder))
        state.pending.append(batch)
        state.pending_rows += batch.num_rows
        state.pending_bytes += batch.nbytes
        self._buffered_bytes += batch.nbytes
        if state.pending_rows >= self._rows_per_group:
            self._flush(state)
        while self._buffered_bytes > MAX_BUFFERED_BYTES:
            self._flush(max(self._folders.values(), key=lambda f: f.pending_bytes))

    def close(self) -> list[WrittenFile]:
        """Write out every buffer and close every file; return all files written."""
        for state in self._folders.values():
            self._flush(state)
        for state in list(self._open.values()):
            self._close_file(state)
        return sorted(self.written, key=lambda f: f.relative)

    def _flush(self, state: _Folder) -> None:
        if not state.pending_rows:
            return
        table = pa.Table.from_batches(state.pending, self._schema)
        self._buffered_bytes -= state.pending_bytes
        state.pending, state.pending_rows, state.pending_bytes = [], 0, 0
        offset = 0
        while offset < table.num_rows:
            writer = self._writer(state)
            take = min(table.num_rows - offset, self._max_rows_per_file - state.rows_in_file)
            writer.write_table(table.slice(offset, take), row_group_size=self._rows_per_group)
            state.rows_in_file += take
            offset += take
            if state.rows_in_file >= self._max_rows_per_file:
                self._close_file(state)

    def _writer(self, state: _Folder) -> pq.ParquetWriter:
        if state.writer is not None:
            self._open.move_to_end(state.name)
            return state.writer
        if len(self._open) >= MAX_OPEN_FILES:
            self._close_file(next(iter(self._open.values())))
        state.relative = posixpath.join(state.name, f"{self._prefix}-{state.files}.parquet")
        path = f"{self._base}/{state.relative}"
        self._fs.create_dir(posixpath.dirname(path), recursive=True)
        state.writer = pq.ParquetWriter(path, self._schema, filesystem=self._fs)
        state.files += 1
        state.rows_in_file = 0
        self._open[state.name] = state
        return state.writer

    def _close_file(self, state: _Folder) -> None:
        assert state.writer is not None
        state.writer.close()
        state.writer = None
        del self._open[state.name]
        self.written.append(WrittenFile(state.relative, state.rows_in_file))
