"""Stream an input artifact's rows with bounded read-ahead.

The files are read one at a time, a row group at a time (``ParquetFile.iter_batches``),
by one background thread at most two batches ahead of the check, so reading and
decoding overlap the rules' evaluation while memory stays flat whatever the input
size. (pyarrow's dataset scanner, even told to read one file and two batches ahead,
let decoded batches pile up to about 0.5 GB on a 10M-row input whenever the check
was slower than the reader.)
"""

from collections.abc import Generator, Iterator

import pyarrow as pa

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.prefetch import prefetched

READ_AHEAD = 2
"""Batches decoded ahead of the check."""


def _batches(
    reader: ArtifactReader, batch_size: int, columns: list[str] | None
) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    for path in reader.paths():
        with reader.loc.fs.open_input_file(path) as source:
            yield from pq.ParquetFile(source).iter_batches(batch_size=batch_size, columns=columns)


def scan(
    reader: ArtifactReader, batch_size: int, columns: list[str] | None = None
) -> Generator[pa.RecordBatch, None, None]:
    """The input's rows in order, as batches of up to ``batch_size`` rows.

    Close it (``contextlib.closing``) when done: that stops and joins the read-ahead
    thread even when the batches were not all read.
    """
    yield from prefetched(_batches(reader, batch_size, columns), depth=READ_AHEAD)
