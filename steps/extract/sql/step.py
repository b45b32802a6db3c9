"""``extract-sql``: run the SELECT, stream its batches into the artifact, note the cursor."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.extract.sql.config import SqlExtract
from steps.extract.sql.query import Window, build_select
from steps.extract.sql.reader import stream_batches
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import DataRejected
from steps.runtime.prefetch import prefetched
from steps.state.cursor_state import CursorValue, read_cursor_state


def run(ctx: StepContext, config: SqlExtract) -> RowCounts:
    """Extract the table or query (within the cursor window) into ``--output``."""
    url = config.database_url()
    password = config.password()
    window = _window(ctx, config)
    sql = build_select(url.dialect, config.table, config.query, window)
    declared = config.declared_schema()
    writer = ctx.artifact_writer()
    ctx.log.event(
        "extract_started",
        url=url.redacted(),
        source=config.table or "query",
        window=window.describe() if window else None,
    )
    high: Any = None
    batches = prefetched(stream_batches(url, password, sql, config.batch_size))
    for number, raw in enumerate(batches, start=1):
        batch = _conform(raw, declared) if declared is not None else raw
        if window is not None:
            high = _max(high, _batch_max(batch, window.field))
        writer.write(batch)
        ctx.log.event("batch_extracted", batch=number, rows=batch.num_rows, rows_total=writer.rows)
    extra: dict[str, Any] = {}
    if window is not None:
        previous = window.after
        extra["cursor"] = {
            "field": window.field,
            "value": _json_value(high) if high is not None else previous,
        }
        ctx.log.event("cursor_seen", **extra["cursor"])
    writer.commit(schema=declared, **extra)
    return RowCounts(rows_in=writer.rows, rows_out=writer.rows)


def _window(ctx: StepContext, config: SqlExtract) -> Window | None:
    cursor = config.cursor
    if cursor is None:
        return None
    state = read_cursor_state(ctx.state_location(ctx.step), ctx.step, cursor.field)
    if state is not None:
        return Window(field=cursor.field, after=state.value, end=cursor.end_value)
    return Window(field=cursor.field, start=cursor.initial_value, end=cursor.end_value)


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


def _batch_max(batch: pa.RecordBatch, field: str) -> Any:
    if field not in batch.schema.names:
        raise DataRejected(
            f"cursor field {field!r} is not a column of the result "
            f"(columns: {', '.join(batch.schema.names)}); fix cursor.field or the query"
        )
    return pc.max(batch.column(field)).as_py() if batch.num_rows else None


def _max(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _json_value(value: Any) -> CursorValue:
    """The cursor value as stored in the manifest and state file (JSON scalar)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataRejected(
            f"cursor value {value!r} of type {type(value).__name__} cannot be a high-water mark; "
            "use a numeric, text, date or timestamp column as cursor.field"
        )
    return value
