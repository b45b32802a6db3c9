"""Stream a SELECT's result as Arrow record batches with bounded memory.

The dialect (:mod:`steps.databases.registry`) runs the query and classifies its
driver's errors: PostgreSQL through ADBC's binary COPY (batches of about 16 MB as
the data arrives), SQLite through ADBC (``batch_size`` rows), MariaDB/MySQL through
PyMySQL's unbuffered cursor (``batch_size`` rows). Batches larger than
``batch_size`` rows are sliced (zero-copy).
"""

from collections.abc import Iterator

import pyarrow as pa

from steps.databases.bounds import Bounds
from steps.databases.registry import dialect
from steps.databases.url import DatabaseUrl


def stream_batches(
    url: DatabaseUrl, password: str | None, sql: str, batch_size: int, bounds: Bounds
) -> Iterator[pa.RecordBatch]:
    """Run ``sql`` and yield its rows in record batches of at most ``batch_size`` rows."""
    for batch in dialect(url.dialect).stream(url, password, sql, batch_size, bounds):
        if batch.num_rows <= batch_size:
            yield batch
            continue
        for offset in range(0, batch.num_rows, batch_size):
            yield batch.slice(offset, batch_size)
