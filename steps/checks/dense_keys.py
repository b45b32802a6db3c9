"""The ``unique`` rule in one pass, for a single integer key over a bounded range.

Most unique keys are ids: integers in a range not much wider than the row count.
For those, one byte per possible key (the range comes from the key column's
min/max in the Parquet footers, and is at most ``DENSE_MAX_RANGE`` keys wide)
records which keys were seen. The batches, taken in input order, are checked
against it and then mark their own keys: a row fails when its key came up in an
earlier batch or earlier in its own batch. So exactly the first occurrence in input
order passes, as with the two-pass search in ``duplicates``, but without reading the
keys before the check starts and without a hash table of every key.
"""

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.errors import StepError

DENSE_MAX_RANGE = 64 << 20
"""Widest key range (max - min + 1) checked this way: at most 64 MiB of seen-flags."""

SPAN_PER_ROW = 4
"""A batch whose keys span more than this many keys per row is sorted instead of counted."""

_INT64_MAX = (1 << 63) - 1


def key_range(reader: ArtifactReader, column: str) -> tuple[int, int] | None:
    """The smallest and largest value of an integer column, from the files' footers.

    None when the column is not an integer, or a row group with values has no
    min/max statistics, or the input holds no value at all.
    """
    import pyarrow.parquet as pq

    field = reader.schema.field(column)
    if not pa.types.is_integer(field.type):
        return None
    low: int | None = None
    high: int | None = None
    for path in reader.paths():
        with reader.loc.fs.open_input_file(path) as source:
            metadata = pq.ParquetFile(source).metadata
        index = metadata.schema.to_arrow_schema().get_field_index(column)
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(index)
            stats = chunk.statistics
            if stats is not None and stats.null_count == chunk.num_values:
                continue  # only nulls here: nothing to compare
            if stats is None or not stats.has_min_max:
                return None
            low = stats.min if low is None else min(low, stats.min)
            high = stats.max if high is None else max(high, stats.max)
    if low is None or high is None:
        return None
    return int(low), int(high)


class DenseKeys:
    """Seen-flags of one integer key column; :meth:`flags` takes batches in input order."""

    def __init__(self, column: str, low: int, high: int) -> None:
        self._column = column
        self._low = low
        self._seen = np.zeros(high - low + 1, dtype=bool)

    def flags(self, batch: pa.RecordBatch) -> pa.Array:
        """Which rows of the batch repeat a key seen before them (nulls never do)."""
        column = batch.column(self._column)
        failed = np.zeros(len(column), dtype=bool)
        if column.null_count == len(column):
            return pa.array(failed)
        values = pc.drop_null(column) if column.null_count else column
        offsets = values.to_numpy(zero_copy_only=False).astype(np.int64) - self._low
        if offsets.min() < 0 or offsets.max() >= len(self._seen):
            raise StepError(
                f"column {self._column!r} holds a value outside the min/max its Parquet "
                "statistics give; the input artifact is inconsistent, rerun the step that wrote it"
            )
        repeated = _repeated_within(offsets)
        repeated |= self._seen[offsets]
        self._seen[offsets] = True
        if column.null_count:
            failed[np.flatnonzero(pc.is_valid(column).to_numpy(zero_copy_only=False))] = repeated
        else:
            failed = repeated
        return pa.array(failed)


def _repeated_within(offsets: np.ndarray) -> np.ndarray:
    """Which values repeat one earlier in the same array (its first occurrence does not).

    Keys of one batch usually lie close together (ids grow through a file), so they
    are counted over their own span first, and only the few that occur more than once
    are sorted to find their first occurrence; keys spread wider are sorted outright.
    """
    repeated = np.zeros(len(offsets), dtype=bool)
    low = int(offsets.min())
    span = int(offsets.max()) - low + 1
    if span > SPAN_PER_ROW * len(offsets):
        candidates = np.arange(len(offsets))
    else:
        counts = np.bincount(offsets - low, minlength=span)
        candidates = np.flatnonzero(counts[offsets - low] > 1)
        if not len(candidates):
            return repeated
    _, first = np.unique(offsets[candidates], return_index=True)
    repeated[candidates] = True
    repeated[candidates[first]] = False
    return repeated


def dense_keys(reader: ArtifactReader, columns: list[str]) -> DenseKeys | None:
    """Seen-flags for a ``unique`` rule, when its key is one integer column of a narrow range."""
    if len(columns) != 1:
        return None
    found: Any = key_range(reader, columns[0])
    if found is None:
        return None
    low, high = found
    if high > _INT64_MAX or high - low + 1 > DENSE_MAX_RANGE:
        return None
    return DenseKeys(columns[0], low, high)
