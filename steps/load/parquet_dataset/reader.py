"""Read the input artifact of a load synchronously, one row group at a time."""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.errors import StepError


def input_batches(
    source: ArtifactReader, batch_size: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The input's rows (or just ``columns``), file after file, one row group at a time.

    A plain synchronous read: nothing is read ahead of the consumer, so memory does not
    build up when writing is slower than reading (a pyarrow dataset scanner's
    read-ahead does, and grows with input size).
    """
    for path, uri in zip(source.paths(), source.uris(), strict=True):
        try:
            with source.loc.fs.open_input_file(path) as file:
                yield from pq.ParquetFile(file).iter_batches(batch_size=batch_size, columns=columns)
        except (pa.ArrowException, OSError) as err:
            reason = str(err).splitlines()[0]
            raise StepError(
                f"input {source.name!r}: cannot read {uri}: {reason}; rerun the step that wrote it"
            ) from err
