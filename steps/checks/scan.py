"""Stream an input artifact's rows with bounded read-ahead.

pyarrow's default scan reads ahead several files and many batches at once, so its
memory grows with the number of files; the check reads one file at a time, two
batches ahead, without pre-buffering whole row groups, which keeps its memory
flat whatever the input size.
"""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.dataset as ds

from steps.runtime.artifacts import ArtifactReader


def scan(
    reader: ArtifactReader, batch_size: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The input's rows in order, as batches of up to ``batch_size`` rows."""
    yield from reader.dataset().to_batches(
        columns=columns,
        batch_size=batch_size,
        fragment_readahead=1,
        batch_readahead=2,
        fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
    )
