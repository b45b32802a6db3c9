"""PostgreSQL extracts: ADBC runs the query as ``COPY (...) TO STDOUT (FORMAT binary)``.

Batches arrive as the data does (about 16 MB each). COPY needs an unparameterised
query, hence literal bounds in the SQL text (:mod:`steps.databases.sql`). The
result's schema is asked for first, so that types ADBC has no Arrow type for are
read as text and every batch leaves in portable types (:mod:`.arrow`).
"""

from collections.abc import Iterator
from contextlib import closing

import pyarrow as pa

from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.postgres.arrow import PortableSelect
from steps.databases.postgres.connect import adbc_connect
from steps.databases.postgres.errors import classify, classify_streamed
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError


def query_failed(url: DatabaseUrl, err: Exception, bounds: Bounds | None = None) -> StepError:
    """The step error for a query that failed with ``err``."""
    fault = classify(err)
    if fault is None:
        raise err
    return fault_error(fault, "query", f"query on {url.redacted()}", bounds)


def stream(
    url: DatabaseUrl, password: str | None, sql: str, bounds: Bounds
) -> Iterator[pa.RecordBatch]:
    """The result of ``sql`` in portable record batches as ADBC delivers them."""
    import adbc_driver_manager

    with closing(adbc_connect(url, password, bounds)) as conn, closing(conn.cursor()) as cur:
        try:
            select = PortableSelect(sql, cur.adbc_execute_schema(sql))
            cur.execute(select.sql)
            reader: pa.RecordBatchReader = cur.fetch_record_batch()
            rows = 0
            for batch in reader:
                yield select.convert(batch, rows + 1)
                rows += batch.num_rows
            if rows == 0:
                yield select.convert(pa.RecordBatch.from_pylist([], schema=reader.schema), 1)
        except adbc_driver_manager.Error as err:
            raise query_failed(url, err, bounds) from None
        except OSError as err:  # raised by the stream of rows, after the query started
            raise fault_error(
                classify_streamed(err), "query", f"query on {url.redacted()}", bounds
            ) from None
