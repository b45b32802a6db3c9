"""Hive partitioning: split record batches by partition values into ``col=value/`` folders.

Folder names are written exactly as pyarrow's hive partitioning writes them, so pyarrow,
DuckDB and Spark read the values back: the value as Arrow formats it as text,
URL-quoted (every byte except letters, digits and ``-_.~``), and null as
``__HIVE_DEFAULT_PARTITION__``. The partition columns are dropped from the rows, because
their values live in the folder names.
"""

from collections.abc import Iterator
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def data_schema(schema: pa.Schema, partition_by: list[str]) -> pa.Schema:
    """The schema of the files: the input schema without the partition columns."""
    return pa.schema([f for f in schema if f.name not in partition_by], metadata=schema.metadata)


def _plain(column: pa.Array) -> pa.Array:
    return column.dictionary_decode() if pa.types.is_dictionary(column.type) else column


def _group_ids(batch: pa.RecordBatch, partition_by: list[str]) -> pa.Array:
    """One dense integer per row naming its combination of partition values."""
    ids: pa.Array | None = None
    for name in partition_by:
        encoded = pc.dictionary_encode(_plain(batch.column(name)), null_encoding="encode")
        indices = encoded.indices.cast(pa.int64())
        if ids is None:
            ids = indices
        else:
            combined = pc.add(pc.multiply(ids, len(encoded.dictionary)), indices)
            ids = pc.dictionary_encode(combined).indices.cast(pa.int64())
    assert ids is not None
    return ids


def _folder(batch: pa.RecordBatch, partition_by: list[str], row: int) -> str:
    parts = []
    for name in partition_by:
        value = pc.cast(_plain(batch.column(name).slice(row, 1)), pa.string())[0].as_py()
        parts.append(f"{name}={NULL_PARTITION if value is None else quote(value, safe='')}")
    return "/".join(parts)


def split_by_partition(
    batch: pa.RecordBatch, partition_by: list[str]
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Yield ``(folder, rows)`` for each partition present in ``batch``.

    The rows of one partition are gathered with one ``take`` each (sort the group ids
    once, cut at the boundaries), so the work is vectorised and every yielded batch
    owns its memory instead of pinning the whole input batch. Without partition
    columns the batch is yielded whole under the folder ``""``.
    """
    if not partition_by:
        yield "", batch
        return
    if batch.num_rows == 0:
        return
    ids = _group_ids(batch, partition_by)
    order = pc.sort_indices(ids)
    sorted_ids = ids.take(order).to_numpy()
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_ids)) + 1))
    ends = np.append(starts[1:], len(sorted_ids))
    keep = [i for i, name in enumerate(batch.schema.names) if name not in partition_by]
    rows = batch.select(keep)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        indices = order.slice(start, end - start)
        folder = _folder(batch, partition_by, indices[0].as_py())
        yield folder, rows if end - start == batch.num_rows else rows.take(indices)
