"""Values on their way to the table: checked against the column types before sending.

Text headed for a typed column (integer, float, boolean, date, timestamp) is
converted here, before anything is sent, so a value that does not fit fails the
load naming the table, column, type and row on every dialect alike. Each dialect's
``load_target.py`` then shapes the values for its bulk path.
"""

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.databases.dialect import Kind
from steps.databases.errors import BadValueError

_TARGETS: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


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
