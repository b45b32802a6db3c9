"""SQLite extracts: ADBC, ``batch_size`` rows per batch."""

from collections.abc import Iterator

import pyarrow as pa

from steps.databases.adbc import adbc_batches
from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.sqlite.connect import adbc_connect
from steps.databases.sqlite.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError


def query_failed(url: DatabaseUrl, err: Exception, bounds: Bounds | None = None) -> StepError:
    """The step error for a query that failed with ``err``."""
    fault = classify(err)
    if fault is None:
        raise err
    return fault_error(fault, "query", f"query on {url.redacted()}", bounds)


def stream(
    url: DatabaseUrl, password: str | None, sql: str, batch_size: int, bounds: Bounds
) -> Iterator[pa.RecordBatch]:
    """The result of ``sql`` in record batches of ``batch_size`` rows."""
    return adbc_batches(
        lambda: adbc_connect(url, password, bounds),
        sql,
        {"adbc.sqlite.query.batch_rows": str(batch_size)},
        lambda err: query_failed(url, err, bounds),
    )
