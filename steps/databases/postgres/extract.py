"""PostgreSQL extracts: ADBC runs the query as ``COPY (...) TO STDOUT (FORMAT binary)``.

Batches arrive as the data does (about 16 MB each). COPY needs an unparameterised
query, hence literal bounds in the SQL text (:mod:`steps.databases.sql`).
"""

from collections.abc import Iterator

import pyarrow as pa

from steps.databases.adbc import adbc_batches
from steps.databases.errors import fault_error
from steps.databases.postgres.connect import adbc_connect
from steps.databases.postgres.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError


def query_failed(url: DatabaseUrl, err: Exception) -> StepError:
    """The step error for a query that failed with ``err``."""
    fault = classify(err)
    if fault is None:
        raise err
    return fault_error(fault, "query", f"query on {url.redacted()}")


def stream(url: DatabaseUrl, password: str | None, sql: str) -> Iterator[pa.RecordBatch]:
    """The result of ``sql`` in record batches as ADBC delivers them."""
    return adbc_batches(
        lambda: adbc_connect(url, password), sql, {}, lambda err: query_failed(url, err)
    )
