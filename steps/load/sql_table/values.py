"""Values on their way to the table: checked against the column types, shaped for the driver.

Text headed for a typed column (integer, float, boolean, date, timestamp) is
converted here, before anything is sent, so a value that does not fit fails the
load naming the table, column, type and row on every dialect alike. Then each
dialect gets values its bulk path can carry (JSON text for nested values, ...).
"""

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.load.sql_table.types import Kind
from steps.runtime.errors import DataRejected

_TARGETS: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


class BadValueError(DataRejected):
    """A value does not fit its column; nothing of the load is committed."""


def _needs_check(source: pa.DataType, kind: Kind) -> bool:
    if kind not in _TARGETS:
        return False
    if pa.types.is_string(source) or pa.types.is_large_string(source):
        return True
    return kind == "int" and pa.types.is_floating(source)


def convert_batch(
    batch: pa.RecordBatch,
    targets: dict[str, tuple[Kind, str]],
    *,
    table: str,
    first_row: int,
) -> pa.RecordBatch:
    """Convert columns to their target kinds; fail on the first value that does not fit.

    ``targets`` maps a column to its kind and SQL type; ``first_row`` is the 1-based
    number of the batch's first row within the load.
    """
    arrays = []
    fields = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        kind, declared = targets.get(field.name, ("other", ""))
        if not _needs_check(field.type, kind):
            arrays.append(column)
            fields.append(field)
            continue
        target = _TARGETS[kind]
        try:
            converted = pc.cast(column, target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            index, value = _first_bad(column, target)
            raise BadValueError(
                f"row {first_row + index} does not fit table {table!r}: column {field.name!r} "
                f"({declared}) cannot take {value!r}; fix the value upstream or the column "
                "type (nothing was loaded)"
            ) from None
        arrays.append(converted)
        fields.append(pa.field(field.name, target))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _first_bad(column: pa.Array, target: pa.DataType) -> tuple[int, Any]:
    """Index and value of the first element that does not cast (error path only)."""
    for index in range(len(column)):
        try:
            pc.cast(column.slice(index, 1), target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return index, column[index].as_py()
    return 0, None


def reshape_columns(
    batch: pa.RecordBatch, rule: Callable[[pa.Array], pa.Array | None]
) -> pa.RecordBatch:
    """Apply ``rule`` to every column; a column it returns None for stays as it is."""
    arrays = []
    for column in batch.columns:
        shaped = rule(column)
        arrays.append(column if shaped is None else shaped)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def common_shape(column: pa.Array) -> pa.Array | None:
    """Shapes every driver needs: plain values for dictionaries, JSON text for nested data."""
    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    if pa.types.is_nested(column.type):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()],
            type=pa.string(),
        )
    if pa.types.is_duration(column.type):
        return column.cast(pa.int64())
    return None
