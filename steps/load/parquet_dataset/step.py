"""``load-parquet``: load the single input artifact into a Parquet dataset.

The input is streamed batch by batch into hidden staging files; only once all of them
are written are they published (see ``writer``). So a failed or killed load changes
nothing readers see, a retry of the same run never duplicates rows, and an append run
again for the same data interval under a new run id replaces that interval's files
(``steps.runtime.load_identity``). The ``merge``
mode stages the input apart, merges it partition by partition with the existing rows
(see ``merge``) and publishes the merged partitions the same way.
"""

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from steps.load.parquet_dataset.config import ParquetDatasetLoad
from steps.load.parquet_dataset.files import WrittenFile
from steps.load.parquet_dataset.hive import data_schema
from steps.load.parquet_dataset.reader import input_batches
from steps.load.parquet_dataset.writer import ParquetDatasetWriter
from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.context import StepContext
from steps.runtime.errors import StepUsageError
from steps.runtime.load_identity import load_identity
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


def _check_columns(source: ArtifactReader, field: str, columns: list[str]) -> None:
    names = source.schema.names
    missing = [c for c in columns if c not in names]
    if missing:
        raise StepUsageError(
            f"{field} column(s) {', '.join(map(repr, missing))} not in input "
            f"{source.name!r} (columns: {', '.join(names)}); fix {field}"
        )


def _check_data_columns_remain(source: ArtifactReader, partition_by: list[str]) -> None:
    """Files without columns hold no readable rows: pyarrow reads 0 of them, DuckDB fails."""
    if partition_by and set(source.schema.names) <= set(partition_by):
        raise StepUsageError(
            f"partition_by names every column of input {source.name!r} "
            f"({', '.join(source.schema.names)}), leaving the files no column to hold the rows; "
            "leave at least one column out of partition_by"
        )


def _stage(
    writer: ParquetDatasetWriter,
    source: ArtifactReader,
    counted: _Counted,
    config: ParquetDatasetLoad,
) -> tuple[list[WrittenFile], dict[str, Any]]:
    """Write the load's files to staging (merged with the dataset in ``merge`` mode)."""
    if config.mode == "merge":
        return _stage_and_merge(writer, source, counted, config)
    staged = writer.stage(
        iter(counted),
        source.schema,
        partition_by=config.partition_by,
        batch_size=config.batch_size,
        max_rows_per_file=config.max_rows_per_file,
    )
    return staged, {}


def _stage_and_merge(
    writer: ParquetDatasetWriter,
    source: ArtifactReader,
    counted: _Counted,
    config: ParquetDatasetLoad,
) -> tuple[list[WrittenFile], dict[str, Any]]:
    """Check the key, stage the input apart, merge it per partition; DuckDB only here."""
    from steps.load.parquet_dataset.merge import (
        INPUT_FOLDER,
        check_unique_key,
        duckdb_session,
        merge_partitions,
    )

    with duckdb_session() as con:
        check_unique_key(con, source, config.key, batch_size=config.batch_size)
        staged_input = writer.stage(
            iter(counted),
            source.schema,
            partition_by=config.partition_by,
            batch_size=config.batch_size,
            max_rows_per_file=config.max_rows_per_file,
            folder=INPUT_FOLDER,
        )
        result = merge_partitions(
            con,
            writer,
            staged_input,
            data_schema(source.schema, config.partition_by),
            key=config.key,
            batch_size=config.batch_size,
            max_rows_per_file=config.max_rows_per_file,
        )
    return result.files, {"rows_replaced": result.rows_replaced}


def run(ctx: StepContext, config: ParquetDatasetLoad) -> RowCounts:
    """Stage and publish the input into the dataset at ``config.path``."""
    source = ctx.only_input()
    _check_columns(source, "partition_by", config.partition_by)
    _check_columns(source, "key", config.key)
    _check_data_columns_remain(source, config.partition_by)
    identity = load_identity(ctx.run_id, by_interval=config.mode == "append")
    writer = ParquetDatasetWriter(
        open_location(config.path), run_id=ctx.run_id, step=ctx.step, identity=identity
    )
    writer.start()
    counted = _Counted(input_batches(source, config.batch_size))
    try:
        staged, merged = _stage(writer, source, counted, config)
    except Exception:
        writer.discard()
        raise
    ctx.log.event("load_staged", files=len(staged), rows=sum(f.rows for f in staged), **merged)
    commit = writer.publish(
        staged,
        config.mode,
        rows=counted.rows,
        pipeline=ctx.pipeline,
        input=source.loc.uri,
        partition_by=config.partition_by,
        **({"key": config.key} if config.key else {}),
        **merged,
    )
    ctx.log.event(
        "load_published",
        dataset=writer.root.uri,
        mode=config.mode,
        files=len(staged),
        removed_files=commit["removed_files"],
        load=identity.describe(),
    )
    swept = writer.sweep_leftovers()
    if swept:
        ctx.log.event("staging_swept", dataset=writer.root.uri, folders=swept)
    return RowCounts(rows_in=counted.rows, rows_out=commit["rows"])
