"""Stream a query's result through an ADBC connection (PostgreSQL and SQLite extracts).

ADBC hands Arrow record batches as the data arrives; the driver's field metadata is
dropped so the artifact's schema is the plain Arrow one. A driver error is turned
into a step error by the dialect's classification.
"""

from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pyarrow as pa

from steps.runtime.errors import StepError


def _without_field_metadata(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, f.nullable) for f in schema])


def adbc_batches(
    connect: Callable[[], Any],
    sql: str,
    options: dict[str, str],
    failed: Callable[[Exception], StepError],
) -> Iterator[pa.RecordBatch]:
    """Run ``sql`` on a ``connect()`` connection; ``failed`` maps a driver error."""
    import adbc_driver_manager

    with closing(connect()) as conn, closing(conn.cursor()) as cur:
        if options:
            cur.adbc_statement.set_options(**options)
        try:
            cur.execute(sql)
            reader: pa.RecordBatchReader = cur.fetch_record_batch()
            schema = _without_field_metadata(reader.schema)
            empty = True
            for batch in reader:
                empty = False
                yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            if empty:
                yield pa.RecordBatch.from_pylist([], schema=schema)
        except adbc_driver_manager.Error as err:
            raise failed(err) from None
