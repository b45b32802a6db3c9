"""The ``merge`` mode: upsert the new rows into the partitions they fall in, by key.

For each partition folder the new data has rows in, the merged partition is the
existing rows whose key is not among the new rows of that partition, plus all the new
rows. DuckDB computes it as an anti join in bounded memory (``MEMORY_LIMIT``, spilling
to a temporary folder). Files are read and written through pyarrow, so the same code
works on a local folder and on S3: existing and staged files are handed to DuckDB as
streaming pyarrow datasets, and the result comes back as record batches that go into
the staging folder. The publish then replaces the touched partitions as a whole.
"""

import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from steps.load.parquet_dataset.files import WrittenFile
from steps.load.parquet_dataset.reader import input_batches
from steps.load.parquet_dataset.writer import ParquetDatasetWriter
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.duckdb_session import connect, quote_identifier
from steps.runtime.errors import DataRejected

if TYPE_CHECKING:
    import duckdb

MEMORY_LIMIT = "256MiB"
INPUT_FOLDER = "_input"


@dataclass(frozen=True)
class MergeResult:
    """The merged files staged for publishing, and how many existing rows new ones replaced."""

    files: list[WrittenFile]
    rows_replaced: int


@contextmanager
def duckdb_session() -> Iterator["duckdb.DuckDBPyConnection"]:
    """An in-memory DuckDB with a memory limit that spills to a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="ferry-merge-") as spill:
        con = connect(
            memory_limit=MEMORY_LIMIT, temp_directory=spill, preserve_insertion_order=False
        )
        try:
            yield con
        finally:
            con.close()


def check_unique_key(
    con: "duckdb.DuckDBPyConnection", source: ArtifactReader, key: list[str], *, batch_size: int
) -> None:
    """Fail when two input rows share a key: which row should win would be arbitrary."""
    if source.rows == 0:
        return
    schema = pa.schema([source.schema.field(c) for c in key])
    keys = input_batches(source, batch_size, columns=key)
    con.register("input_rows", pa.RecordBatchReader.from_batches(schema, keys))
    columns = ", ".join(quote_identifier(c) for c in key)
    found = con.execute(
        f"SELECT count(*) OVER (), _ferry_rows, {columns} FROM ("
        f"SELECT {columns}, count(*) AS _ferry_rows FROM input_rows GROUP BY {columns} "
        f"HAVING count(*) > 1) ORDER BY {columns} LIMIT 1"
    ).fetchall()
    con.unregister("input_rows")
    if not found:
        return
    duplicates, rows, *values = found[0]
    example = ", ".join(f"{c}={v!r}" for c, v in zip(key, values, strict=True))
    raise DataRejected(
        f"input {source.name!r} has {duplicates} key value(s) on more than one row (key: "
        f"{', '.join(key)}), e.g. {example} on {rows} rows; deduplicate the input "
        "(e.g. in a transform) or fix key"
    )


def _scan(paths: list[str], schema: pa.Schema, fs: pafs.FileSystem, batch_size: int) -> ds.Scanner:
    """Files as a scanner DuckDB can read more than once, with read-ahead kept to a minimum."""
    return ds.dataset(paths, schema=schema, filesystem=fs).scanner(
        batch_size=batch_size, batch_readahead=1, fragment_readahead=1
    )


def _existing_rows(writer: ParquetDatasetWriter, paths: list[str], schema: pa.Schema) -> int:
    """Rows in the existing files; fails if a file has a column the new data lacks."""
    rows = 0
    for fragment in ds.dataset(paths, format="parquet", filesystem=writer.root.fs).get_fragments():
        extra = [n for n in fragment.physical_schema.names if n not in schema.names]
        if extra:
            raise DataRejected(
                f"existing file {fragment.path} of dataset {writer.root.uri} has column(s) "
                f"{', '.join(extra)} that the input lacks; merge would drop them: add them to "
                "the input or load with mode 'overwrite-partitions'"
            )
        rows += fragment.metadata.num_rows
    return rows


def merge_partitions(
    con: "duckdb.DuckDBPyConnection",
    writer: ParquetDatasetWriter,
    staged_input: list[WrittenFile],
    schema: pa.Schema,
    *,
    key: list[str],
    batch_size: int,
    max_rows_per_file: int,
) -> MergeResult:
    """Merge each partition of the staged input (under ``INPUT_FOLDER``) with the dataset.

    ``schema`` is the schema of the files (partition columns removed); the merged files
    have it too. Key columns that are partition columns are equal within a partition,
    so rows are matched on the other key columns.
    """
    fs = writer.root.fs
    by_partition: dict[str, list[WrittenFile]] = {}
    for file in staged_input:
        by_partition.setdefault(posixpath.dirname(file.relative), []).append(file)
    existing: dict[str, list[str]] = {}
    for relative in writer.existing_files():
        existing.setdefault(posixpath.dirname(relative), []).append(relative)
    match = [c for c in key if c in schema.names]
    on = " AND ".join(
        f"e.{quote_identifier(c)} IS NOT DISTINCT FROM n.{quote_identifier(c)}" for c in match
    )
    merged = writer.staging_files(
        schema,
        folder="",
        rows_per_group=min(batch_size, max_rows_per_file),
        max_rows_per_file=max_rows_per_file,
    )
    rows_replaced = 0
    for partition, new_files in sorted(by_partition.items()):
        new_paths = [writer.staging.child(INPUT_FOLDER, f.relative).path for f in new_files]
        old_paths = [writer.root.child(f).path for f in existing.get(partition, [])]
        old_rows = _existing_rows(writer, old_paths, schema) if old_paths else 0
        con.register("new_rows", _scan(new_paths, schema, fs, batch_size))
        sql = "SELECT * FROM new_rows"
        if old_paths and match:
            con.register("existing_rows", _scan(old_paths, schema, fs, batch_size))
            sql = f"SELECT e.* FROM existing_rows e ANTI JOIN new_rows n ON {on} UNION ALL {sql}"
        kept = -sum(f.rows for f in new_files)
        for batch in con.sql(sql).to_arrow_reader(batch_size):
            merged.write(partition, batch if batch.schema == schema else batch.cast(schema))
            kept += batch.num_rows
        rows_replaced += old_rows - kept
    return MergeResult(merged.close(), rows_replaced)
