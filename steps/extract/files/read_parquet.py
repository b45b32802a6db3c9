"""Parquet files as record batches, cast to the target schema.

Parquet carries its own schema, so the columns are checked once per file and the
rows streamed with ``iter_batches``. A value that does not fit the target type (say
an int64 that overflows a declared int32) rejects its row, numbered from 1 within the
file, with the row as JSON for its raw text.
"""

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from steps.extract.files.config import FilesExtract
from steps.extract.files.quarantine import BadRow
from steps.extract.files.schema import TargetSchema
from steps.extract.files.source import reading
from steps.runtime.errors import DataRejected
from steps.runtime.store import Location


def _open(loc: Location) -> pq.ParquetFile:
    try:
        with reading(loc):
            return pq.ParquetFile(loc.fs.open_input_file(loc.path))
    except pa.ArrowInvalid as err:
        raise DataRejected(f"{loc.uri}: cannot read as Parquet: {err}; check the format") from None


def read_parquet(
    loc: Location, config: FilesExtract, target: TargetSchema
) -> Iterator[tuple[pa.RecordBatch | None, list[BadRow]]]:
    """Stream one Parquet file as (good rows in the target schema, bad rows) per batch."""
    parquet = _open(loc)
    schema = parquet.schema_arrow
    target.adopt(loc.uri, schema)
    target.check_columns(loc.uri, list(schema.names))
    row = 0
    for batch in _batches(loc, parquet, config.batch_size, target.names):
        good, failures = target.cast(loc.uri, batch.select(target.names))
        bad = [
            BadRow(
                loc.uri,
                row + f.index + 1,
                f.problem,
                json.dumps(batch.slice(f.index, 1).to_pylist()[0], default=str),
                unit="row",
            )
            for f in failures
        ]
        row += batch.num_rows
        yield good, bad


def _batches(
    loc: Location, parquet: pq.ParquetFile, batch_size: int, columns: list[str]
) -> Iterator[pa.RecordBatch]:
    batches = parquet.iter_batches(batch_size=batch_size, columns=columns)
    while True:
        with reading(loc):
            batch = next(batches, None)
        if batch is None:
            return
        yield batch
