"""Cast record batches to the target schema, routing the rows that do not fit.

The happy path is one vectorised ``pc.cast`` per column. Only when a column's cast
fails are the failing rows located, by bisection: the column is split in halves
and each half cast again, so k bad values among n rows cost O(k log n) vectorised
casts instead of a Python loop over every row. The exact same cast (``safe=True``)
decides both, so a row is rejected exactly when it could not be loaded.
"""

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from steps.runtime.column_types import type_label


@dataclass(frozen=True)
class CastFailure:
    """A value that cannot be cast: its row within the batch and its column."""

    index: int
    column: str
    value: object
    target: pa.DataType

    @property
    def problem(self) -> str:
        """What is wrong, for the error message and the quarantine reason."""
        return f"column {self.column!r}: {self.value!r} is not a valid {type_label(self.target)}"


class UnsupportedCast(Exception):
    """A column's type cannot be cast to the target type at all (a schema mismatch)."""

    def __init__(self, column: str, source: pa.DataType, target: pa.DataType) -> None:
        super().__init__(
            f"column {column!r} is {type_label(source)}, which cannot be read as "
            f"{type_label(target)}"
        )
        self.column = column


def _failing_positions(array: pa.Array, target: pa.DataType, offset: int) -> list[int]:
    try:
        pc.cast(array, target)
    except (pa.ArrowInvalid, OverflowError):
        if len(array) == 1:
            return [offset]
        half = len(array) // 2
        return _failing_positions(array.slice(0, half), target, offset) + _failing_positions(
            array.slice(half), target, offset + half
        )
    return []


def _cast_column(name: str, array: pa.Array, target: pa.DataType) -> pa.Array | list[int]:
    """The cast column, or the positions whose values fail to cast."""
    if array.type == target:
        return array
    try:
        return pc.cast(array, target)
    except pa.ArrowNotImplementedError:
        raise UnsupportedCast(name, array.type, target) from None
    except (pa.ArrowInvalid, OverflowError):
        return _failing_positions(array, target, 0)


def cast_batch(
    batch: pa.RecordBatch, schema: pa.Schema
) -> tuple[pa.RecordBatch, list[CastFailure]]:
    """Cast ``batch`` (columns in ``schema`` order) to ``schema``.

    Returns the good rows, cast, and one failure per rejected row (its first failing
    column), sorted by row.
    """
    columns: list[pa.Array] = []
    failures: dict[int, CastFailure] = {}
    for field, array in zip(schema, batch.columns, strict=True):
        result = _cast_column(field.name, array, field.type)
        if isinstance(result, list):
            for index in result:
                failures.setdefault(
                    index, CastFailure(index, field.name, array[index].as_py(), field.type)
                )
            columns.append(array)
        else:
            columns.append(result)
    if not failures:
        return pa.RecordBatch.from_arrays(columns, schema=schema), []
    keep = [True] * batch.num_rows
    for index in failures:
        keep[index] = False
    mask = pa.array(keep)
    good = pa.RecordBatch.from_arrays(
        [pc.cast(pc.filter(col, mask), f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    return good, [failures[i] for i in sorted(failures)]
