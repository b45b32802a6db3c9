"""``load-parquet``: load the single input artifact into a Parquet dataset.

The input is streamed batch by batch into hidden staging files; only once all of them
are written are they published (see ``writer``). So a failed or killed load changes
nothing readers see, and a retry of the same run never duplicates rows.
"""

from collections.abc import Iterator

import pyarrow as pa

from steps.load.parquet_dataset.config import ParquetDatasetLoad
from steps.load.parquet_dataset.writer import ParquetDatasetWriter
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import StepUsageError
from steps.runtime.store import open_location


class _Counted:
    """Passes batches through, counting their rows."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self._batches:
            self.rows += batch.num_rows
            yield batch


def run(ctx: StepContext, config: ParquetDatasetLoad) -> RowCounts:
    """Stage and publish the input into the dataset at ``config.path``."""
    source = ctx.only_input()
    schema = source.schema
    missing = [c for c in config.partition_by if c not in schema.names]
    if missing:
        raise StepUsageError(
            f"partition_by column(s) {', '.join(map(repr, missing))} not in input "
            f"{source.name!r} (columns: {', '.join(schema.names)}); fix partition_by"
        )
    writer = ParquetDatasetWriter(open_location(config.path), run_id=ctx.run_id, step=ctx.step)
    counted = _Counted(source.batches(config.batch_size))
    staged = writer.stage(
        iter(counted),
        schema,
        partition_by=config.partition_by,
        batch_size=config.batch_size,
        max_rows_per_file=config.max_rows_per_file,
    )
    ctx.log.event("load_staged", files=len(staged), rows=sum(f.rows for f in staged))
    commit = writer.publish(
        staged,
        config.mode,
        pipeline=ctx.pipeline,
        input=source.loc.uri,
        partition_by=config.partition_by,
    )
    ctx.log.event(
        "load_published",
        dataset=writer.root.uri,
        mode=config.mode,
        files=len(staged),
        removed_files=commit["removed_files"],
    )
    return RowCounts(rows_in=counted.rows, rows_out=commit["rows"])
