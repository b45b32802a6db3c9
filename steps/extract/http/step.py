"""``extract-http``: page through a JSON API and write the records as one artifact.

Records are converted page by page (so a bad value fails at once, naming the page)
and written in Arrow batches of ``batch_size`` records, so memory follows the batch
size, not the total. An incremental source puts its new high-water mark into the
manifest; ``commit-state`` stores it once every target has committed.
"""

from steps.extract.http.client import HttpClient
from steps.extract.http.config import HttpExtract
from steps.extract.http.incremental import IncrementalWindow, open_window
from steps.extract.http.reader import PageReader
from steps.extract.http.schema import BatchBuilder
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext


def run(ctx: StepContext, config: HttpExtract) -> RowCounts:
    """Fetch every page, keep the records in the incremental window, write the artifact."""
    client = HttpClient(config, ctx.log)
    window: IncrementalWindow | None = None
    params: dict[str, str] = {}
    if config.cursor is not None:
        window = open_window(ctx, config.cursor)
        params = window.query_params(config.cursor_param, config.cursor_end_param)
        ctx.log.event(
            "incremental_window",
            field=config.cursor.field,
            previous=window.previous,
            lower=window.lower,
            end=config.cursor.end_value,
        )
    writer = ctx.artifact_writer()
    builder = BatchBuilder(config.columns)
    received = kept_total = 0
    for page in PageReader(config, client, ctx.log).pages(params):
        safe = client.safe(page.response.url)
        kept = window.select(page.records, safe) if window else page.records
        ignored = builder.add(kept, safe)
        if ignored:
            ctx.log.event("fields_ignored", url=safe, fields=ignored, reason="not in columns")
        received += len(page.records)
        kept_total += len(kept)
        ctx.log.event(
            "page_fetched",
            url=safe,
            page=page.number,
            status=page.response.status,
            records=len(page.records),
            kept=len(kept),
            request_s=page.response.request_s,
        )
        if builder.rows >= config.batch_size:
            writer.write(builder.take())
    if builder.rows:
        writer.write(builder.take())
    if window is None:
        writer.commit(schema=builder.arrow_schema())
    else:
        cursor = {"field": window.cursor.field, "value": window.high_water}
        writer.commit(schema=builder.arrow_schema(), cursor=cursor)
        ctx.log.event("cursor_candidate", field=cursor["field"], value=cursor["value"])
    ctx.log.event(
        "extract_finished",
        records_received=received,
        records_outside_window=received - kept_total,
        rows=writer.rows,
    )
    return RowCounts(rows_in=kept_total, rows_out=writer.rows)
