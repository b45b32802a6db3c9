"""Hive partitioning: split record batches by partition values into ``col=value/`` folders.

Folder names are written exactly as pyarrow's hive partitioning writes them, so pyarrow,
DuckDB and Spark read the values back: the value as Arrow formats it as text,
URL-quoted (every byte except letters, digits and ``-_.~``), and null as
``__HIVE_DEFAULT_PARTITION__``. The partition columns are dropped from the rows, because
their values live in the folder names. A folder name longer than ``MAX_FOLDER_BYTES``
rejects the input: file systems refuse it, and a retry would fail the same way.
"""

from collections.abc import Iterator
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steps.runtime.errors import DataRejected

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
MAX_FOLDER_BYTES = 255
SHOWN_VALUE_CHARS = 40


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


def _folder_name(name: str, value: str | None) -> str:
    """``name=value`` as a folder name, refused when too long for a file system (NAME_MAX)."""
    folder = f"{name}={NULL_PARTITION if value is None else quote(value, safe='')}"
    size = len(folder.encode())
    if size > MAX_FOLDER_BYTES:
        short = value is None or len(value) <= SHOWN_VALUE_CHARS
        shown = value if short or value is None else f"{value[:SHOWN_VALUE_CHARS]}..."
        raise DataRejected(
            f"partition_by column {name!r} has value {shown!r} whose folder name is {size} "
            f"bytes URL-quoted, over the {MAX_FOLDER_BYTES}-byte limit of file systems; shorten "
            "or hash the value (e.g. in a transform) or leave the column out of partition_by"
        )
    return folder


def _folder(batch: pa.RecordBatch, partition_by: list[str], row: int) -> str:
    parts = []
    for name in partition_by:
        value = pc.cast(_plain(batch.column(name).slice(row, 1)), pa.string())[0].as_py()
        parts.append(_folder_name(name, value))
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
