"""MariaDB/MySQL extracts: PyMySQL's unbuffered ``SSCursor``, ``batch_size`` rows at a time."""

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pyarrow as pa

from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.mysql.arrow import MysqlBatchBuilder
from steps.databases.mysql.connect import pymysql_connect
from steps.databases.mysql.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError

# The server aborts an unbuffered read whose client is slower than this (seconds);
# writing a batch to a remote store may take a while.
_NET_WRITE_TIMEOUT = 3600


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
    import pymysql

    with closing(pymysql_connect(url, password, bounds, streaming=True)) as conn:
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET SESSION net_write_timeout = {_NET_WRITE_TIMEOUT}")
                cur.execute(sql)
                builder = MysqlBatchBuilder(cur.description)
                rows_read = 0
                while rows := _fetch(cur, batch_size):
                    yield builder.build(rows, rows_read + 1)
                    rows_read += len(rows)
                if builder.schema is None:
                    yield builder.build([], 1)
        except pymysql.Error as err:
            raise query_failed(url, err, bounds) from None


def _fetch(cur: Any, batch_size: int) -> list[tuple[Any, ...]]:
    return list(cur.fetchmany(batch_size))
