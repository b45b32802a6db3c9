"""Stream a SELECT's result as Arrow record batches with bounded memory, per dialect.

- PostgreSQL: ADBC, which runs the query as ``COPY (...) TO STDOUT (FORMAT binary)``
  and yields batches as the data arrives (about 16 MB each). An unparameterised
  query is required for COPY, hence literal bounds in the SQL text.
- SQLite: ADBC, ``batch_size`` rows per batch.
- MariaDB/MySQL: PyMySQL's unbuffered ``SSCursor``, ``batch_size`` rows at a time.

Batches larger than ``batch_size`` rows are sliced (zero-copy).
"""

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pyarrow as pa

from steps.databases.connect import adbc_connect, pymysql_connect
from steps.databases.url import DatabaseUrl
from steps.extract.sql.mysql_arrow import MysqlBatchBuilder
from steps.runtime.errors import StepError

# The server aborts an unbuffered read whose client is slower than this (seconds);
# writing a batch to a remote store may take a while.
_MYSQL_NET_WRITE_TIMEOUT = 3600


def stream_batches(
    url: DatabaseUrl, password: str | None, sql: str, batch_size: int
) -> Iterator[pa.RecordBatch]:
    """Run ``sql`` and yield its rows in record batches of at most ``batch_size`` rows."""
    source = _mysql_batches if url.dialect == "mysql" else _adbc_batches
    for batch in source(url, password, sql, batch_size):
        if batch.num_rows <= batch_size:
            yield batch
            continue
        for offset in range(0, batch.num_rows, batch_size):
            yield batch.slice(offset, batch_size)


def _query_failed(url: DatabaseUrl, err: Exception) -> StepError:
    reason = " ".join(str(err).split())
    return StepError(f"query on {url.redacted()} failed: {reason}; check the table or query")


def _without_field_metadata(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, f.nullable) for f in schema])


def _adbc_batches(
    url: DatabaseUrl, password: str | None, sql: str, batch_size: int
) -> Iterator[pa.RecordBatch]:
    import adbc_driver_manager

    with closing(adbc_connect(url, password)) as conn, closing(conn.cursor()) as cur:
        if url.dialect == "sqlite":
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_size)})
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
            raise _query_failed(url, err) from None


def _mysql_batches(
    url: DatabaseUrl, password: str | None, sql: str, batch_size: int
) -> Iterator[pa.RecordBatch]:
    import pymysql

    with closing(pymysql_connect(url, password, streaming=True)) as conn:
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET SESSION net_write_timeout = {_MYSQL_NET_WRITE_TIMEOUT}")
                cur.execute(sql)
                builder = MysqlBatchBuilder(cur.description)
                while rows := _fetch(cur, batch_size):
                    yield builder.build(rows)
                if builder.schema is None:
                    yield builder.build([])
        except pymysql.Error as err:
            raise _query_failed(url, err) from None


def _fetch(cur: Any, batch_size: int) -> list[tuple[Any, ...]]:
    return list(cur.fetchmany(batch_size))
