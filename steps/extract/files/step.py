"""``extract-files``: read the files a path names into this step's artifact.

Each file is streamed in record batches by its format's reader, held to one target
schema (declared, or the first file's), and written as it comes: good rows to the
artifact's data part, rows that cannot be read to its quarantine part or, with
``on_bad_row: fail``, to an error naming the file and line. Memory stays bounded by
the batch size whatever the input size.
"""

import errno
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa

from steps.extract.files.config import FilesExtract
from steps.extract.files.listing import list_source_files
from steps.extract.files.quarantine import BadRow, quarantine_batch
from steps.extract.files.read_csv import read_csv
from steps.extract.files.read_jsonl import read_jsonl
from steps.extract.files.read_parquet import read_parquet
from steps.extract.files.schema import TargetSchema
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import DataRejected, StepError
from steps.runtime.store import Location

Reader = Callable[
    [Location, FilesExtract, TargetSchema], Iterator[tuple[pa.RecordBatch | None, list[BadRow]]]
]
_READERS: dict[str, Reader] = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}


class _BatchBuffer:
    """Gathers small batches into ones of about ``batch_size`` rows (one row group each)."""

    def __init__(self, write: Callable[[pa.RecordBatch], None], batch_size: int) -> None:
        self._write = write
        self._batch_size = batch_size
        self._batches: list[pa.RecordBatch] = []
        self._rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._batches.append(batch)
        self._rows += batch.num_rows
        if self._rows >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        if self._batches:
            self._write(pa.concat_batches(self._batches))
            self._batches = []
            self._rows = 0


_NO_ROOM = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file would exceed the largest file size allowed (file system or ulimit -f)",
}


@contextmanager
def _writing(uri: str) -> Iterator[None]:
    """Turn a file-system fault while writing the artifact into one line naming it (exit 1)."""
    try:
        yield
    except StepError:
        raise
    except OSError as err:
        number = err.errno
        if number is None and (found := re.search(r"\[errno (\d+)\]", str(err), re.I)):
            number = int(found.group(1))
        what = _NO_ROOM.get(number or 0)
        detail = what or (str(err).strip().splitlines() or [type(err).__name__])[0]
        advice = "free space or give the step more room" if what else "check the output store"
        raise StepError(
            f"cannot write the artifact at {uri}: {detail}; {advice}, then retry"
        ) from None


def _guarded(write: Callable[[pa.RecordBatch], None], uri: str) -> Callable[[pa.RecordBatch], None]:
    def guarded(batch: pa.RecordBatch) -> None:
        with _writing(uri):
            write(batch)

    return guarded


def run(ctx: StepContext, config: FilesExtract) -> RowCounts:
    """Extract the files into the artifact at ``--output``; return the row counts."""
    files = list_source_files(config.path)
    target = TargetSchema(config.declared_schema())
    read = _READERS[config.format]
    output = ctx.output.uri if ctx.output is not None else "--output"
    with _writing(output):
        writer = ctx.artifact_writer()
    data = _BatchBuffer(_guarded(writer.write, output), config.batch_size)
    quarantine = _BatchBuffer(_guarded(writer.quarantine, output), config.batch_size)
    rows_in = 0
    for loc in files:
        good_rows = bad_rows = 0
        for good, bad in read(loc, config, target):
            if bad and config.on_bad_row == "fail":
                first = min(bad, key=lambda row: row.line)
                raise DataRejected(
                    f"{first.reason}; fix the file or set on_bad_row to 'quarantine'"
                )
            if bad:
                quarantine.add(quarantine_batch(bad))
                bad_rows += len(bad)
            if good is not None:
                data.add(good)
                good_rows += good.num_rows
        ctx.log.event("file_read", file=loc.uri, rows=good_rows, rows_rejected=bad_rows)
        rows_in += good_rows + bad_rows
    data.flush()
    quarantine.flush()
    with _writing(output):
        writer.commit(schema=target.schema)
    return RowCounts(rows_in=rows_in, rows_out=writer.rows, rows_rejected=writer.rejected)
