"""``extract-sql``: run the SELECT, stream its batches into the artifact, note the cursor.

With a cursor the SELECT covers the run's window (``steps.incremental``): from the
stored mark minus lag, inclusive, to ``end_value``; or an explicit window. Every
batch passes the cursor's filter, which drops the re-read rows an earlier run
already delivered (by digest) before they are written or counted.
"""

from contextlib import closing
from typing import Any

import pyarrow as pa

from steps.databases.errors import UnportableValue
from steps.extract.sql.config import SqlExtract
from steps.extract.sql.query import build_null_count, build_select
from steps.extract.sql.reader import stream_batches
from steps.incremental import Incremental
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import DataRejected
from steps.runtime.prefetch import prefetched


def run(ctx: StepContext, config: SqlExtract) -> RowCounts:
    """Extract the table or query (within the cursor window) into ``--output``."""
    url = config.database_url()
    password = config.password()
    inc = Incremental.open(ctx, config.cursor) if config.cursor is not None else None
    sql = build_select(
        url.dialect,
        config.table,
        config.query,
        field=inc.cursor.field if inc else None,
        lower=inc.lower if inc else None,
        end=inc.end if inc else None,
    )
    declared = config.declared_schema()
    writer = ctx.artifact_writer()
    ctx.log.event(
        "extract_started",
        url=url.redacted(),
        source=config.table or "query",
        window=inc.describe() if inc else None,
    )
    batches = prefetched(stream_batches(url, password, sql, config.batch_size, config.bounds()))
    try:
        with closing(batches):  # a rejected batch stops the read-ahead thread here, joined
            for number, raw in enumerate(batches, start=1):
                batch = _conform(raw, declared) if declared is not None else raw
                if inc is not None:
                    batch = inc.filter(batch)
                writer.write(batch)
                ctx.log.event(
                    "batch_extracted", batch=number, rows=batch.num_rows, rows_total=writer.rows
                )
    except UnportableValue as err:
        source = f"table {config.table!r}" if config.table else "the query"
        raise DataRejected(
            f"reading {source} on {url.redacted()} failed: {err}; nothing was written, not retried"
        ) from None
    extra: dict[str, Any] = {}
    if inc is not None:
        if inc.lower is not None or inc.end is not None:
            inc.add_nulls(_null_count(config, url, password, inc.cursor.field))
        inc.log_summary(ctx.log)
        assert ctx.output is not None
        extra["cursor"] = inc.manifest_cursor(ctx.output)
        ctx.log.event(
            "cursor_seen",
            field=extra["cursor"]["field"],
            value=extra["cursor"]["value"],
            stateless=inc.stateless,
        )
    writer.commit(schema=declared, **extra)
    return RowCounts(rows_in=writer.rows, rows_out=writer.rows)


def _null_count(config: SqlExtract, url: Any, password: str | None, field: str) -> int:
    """Rows the window's WHERE left out because their cursor is NULL."""
    sql = build_null_count(url.dialect, config.table, config.query, field)
    total = 0
    for batch in stream_batches(url, password, sql, 1, config.bounds()):
        if batch.num_rows:
            total += int(batch.column(0)[0].as_py() or 0)
    return total


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    missing = [n for n in schema.names if n not in batch.schema.names]
    unexpected = [n for n in batch.schema.names if n not in schema.names]
    if missing or unexpected:
        raise DataRejected(
            f"result columns differ from the declared columns: missing {missing}, "
            f"unexpected {unexpected}; fix `columns` or the table/query"
        )
    arrays = []
    for field in schema:
        column = batch.column(field.name)
        try:
            arrays.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise DataRejected(
                f"column {field.name!r} ({column.type}) cannot be cast to the "
                f"declared type {field.type}: {err}; fix `columns` or cast in the query"
            ) from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
