"""``extract-http``: page through a JSON API and write the records as one artifact.

Records are converted page by page (so a bad value fails at once, naming the page)
and written in Arrow batches of about ``batch_size`` records, so memory follows the
batch size, not the total. With a cursor every page passes the incremental filter
(``steps.incremental``): the window is checked again client-side, null cursors are
skipped, records an earlier run delivered are dropped; the new mark and boundary
digests go into the manifest, and ``commit-state`` stores them once every target
has committed.
"""

from steps.extract.http.client import HttpClient
from steps.extract.http.config import HttpExtract
from steps.extract.http.reader import PageReader
from steps.extract.http.schema import BatchBuilder
from steps.incremental import Incremental
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext


def run(ctx: StepContext, config: HttpExtract) -> RowCounts:
    """Fetch every page, keep the records in the incremental window, write the artifact."""
    import pyarrow as pa

    client = HttpClient(config, ctx.log)
    inc: Incremental | None = None
    params: dict[str, str] = {}
    if config.cursor is not None:
        inc = Incremental.open(ctx, config.cursor, numeric_text=True, time_sep="T")
        lower, end = inc.bound_text(inc.lower), inc.bound_text(inc.end)
        if config.cursor_param and lower is not None:
            params[config.cursor_param] = lower
        if config.cursor_end_param and end is not None:
            params[config.cursor_end_param] = end
        ctx.log.event("incremental_window", **inc.describe())
    writer = ctx.artifact_writer()
    builder = BatchBuilder(config.columns)
    pending: list[pa.RecordBatch] = []
    pending_rows = received = kept_total = 0
    for page in PageReader(config, client, ctx.log).pages(params):
        safe = client.safe(page.response.url)
        ignored = builder.add(page.records, safe)
        if ignored:
            ctx.log.event("fields_ignored", url=safe, fields=ignored, reason="not in columns")
        kept = 0
        if builder.rows:
            batch = builder.take()
            if inc is not None:
                batch = inc.filter(batch, check_window=True)
            kept = batch.num_rows
            pending.append(batch)
            pending_rows += kept
        received += len(page.records)
        kept_total += kept
        ctx.log.event(
            "page_fetched",
            url=safe,
            page=page.number,
            status=page.response.status,
            records=len(page.records),
            kept=kept,
            request_s=page.response.request_s,
        )
        if pending_rows >= config.batch_size:
            writer.write(pa.concat_batches(pending))
            pending, pending_rows = [], 0
    if pending_rows:
        writer.write(pa.concat_batches(pending))
    if inc is None:
        writer.commit(schema=builder.arrow_schema())
    else:
        inc.log_summary(ctx.log)
        assert ctx.output is not None
        cursor = inc.manifest_cursor(ctx.output)
        writer.commit(schema=builder.arrow_schema(), cursor=cursor)
        ctx.log.event("cursor_candidate", field=cursor["field"], value=cursor["value"])
    ctx.log.event(
        "extract_finished",
        records_received=received,
        records_outside_window=inc.outside_window if inc else 0,
        records_null_cursor=inc.nulls_skipped if inc else 0,
        boundary_duplicates=inc.boundary_duplicates if inc else 0,
        rows=writer.rows,
        requests=client.requests,
    )
    return RowCounts(rows_in=kept_total, rows_out=writer.rows)
