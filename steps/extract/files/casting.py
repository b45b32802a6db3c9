"""Cast record batches to the target schema, routing the rows that do not fit.

The happy path is one vectorised ``pc.cast`` per column. Only when a column's cast
fails are the failing rows located, by bisection: the column is split in halves
and each half cast again, so k bad values among n rows cost O(k log n) vectorised
casts instead of a Python loop over every row. The exact same cast (``safe=True``)
decides both, so a row is rejected exactly when it could not be loaded.

Text read as raw bytes (CSV) is cast through UTF-8 strings, so a value that is not
valid UTF-8 rejects its row like any other bad value instead of the whole file.

Parsing text is strict (``yes`` is no bool, a zoned timestamp needs an offset), but
Arrow casts between typed values change what they mean: ``true`` becomes 1, 2
becomes ``true``, a naive time is taken as UTC, a time is cut to its date. So a typed
value (JSON Lines, Parquet) must already be of its target's kind; see ``_refused``.
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
        value = self.value
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as err:
                return (
                    f"column {self.column!r}: {value!r} is not valid UTF-8 "
                    f"(byte {err.start + 1} of the value)"
                )
        return f"column {self.column!r}: {value!r} is not a valid {type_label(self.target)}"


class UnsupportedCast(Exception):
    """A column's type cannot be cast to the target type at all (a schema mismatch)."""

    def __init__(self, column: str, source: pa.DataType, target: pa.DataType) -> None:
        super().__init__(
            f"column {column!r} is {type_label(source)}, which cannot be read as "
            f"{type_label(target)}"
        )
        self.column = column


_ACCEPTED_KINDS: dict[str, set[str]] = {
    "bool": {"bool"},
    "number": {"number"},
    "date": {"date"},
    "timestamp": {"timestamp", "date"},
    "zoned timestamp": {"zoned timestamp"},
}
"""Per target kind, the typed kinds that cast to it without changing their meaning."""


def _kind(arrow: pa.DataType) -> str:
    """What kind of value a type holds, as far as strict casting cares."""
    if pa.types.is_boolean(arrow):
        return "bool"
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "zoned timestamp" if arrow.tz else "timestamp"
    if pa.types.is_null(arrow) or pa.types.is_string(arrow) or pa.types.is_binary(arrow):
        return "text"
    return "other"


def _refused(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether casting ``source`` to ``target`` would change what the values mean.

    Text (and all-null) columns are parsed by the cast itself, strictly, as for CSV.
    A typed value must be of a kind its target accepts: Arrow would otherwise turn a
    bool into a number and back, take a naive time as UTC or drop a time zone, read a
    number as an epoch or cut a time to its date.
    """
    source_kind = _kind(source)
    accepted = _ACCEPTED_KINDS.get(_kind(target))
    return source_kind != "text" and accepted is not None and source_kind not in accepted


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    """``pc.cast``, with raw bytes and integers taking a step on the way.

    Raw bytes become text (checked UTF-8) before any other type. Integers reach a
    decimal through the widest decimal of its scale: pyarrow refuses int64 to
    ``decimal(10,2)`` outright (it wants the precision to hold any int64), which
    would reject every value; going wide first rejects only the values that do not fit.
    """
    if pa.types.is_binary(array.type) and not pa.types.is_binary(target):
        array = pc.cast(array, pa.string())
    if pa.types.is_integer(array.type) and pa.types.is_decimal(target):
        wide = pa.decimal256(76, target.scale) if target.bit_width == 256 else None
        array = pc.cast(array, wide or pa.decimal128(38, target.scale))
    return pc.cast(array, target)


def _failing_positions(array: pa.Array, target: pa.DataType, offset: int) -> list[int]:
    try:
        _cast(array, target)
    except (pa.ArrowInvalid, OverflowError):
        if len(array) == 1:
            return [offset]
        half = len(array) // 2
        return _failing_positions(array.slice(0, half), target, offset) + _failing_positions(
            array.slice(half), target, offset + half
        )
    return []


def _cast_column(
    name: str, array: pa.Array, target: pa.DataType, per_value_types: bool
) -> pa.Array | list[int]:
    """The cast column, or the positions whose values fail to cast.

    With ``per_value_types`` a type that cannot be cast at all fails only the rows
    that have a value (nulls fit any type), because the type came from those values.
    """
    if array.type == target:
        return array
    if _refused(array.type, target):
        return _uncastable_type(name, array, target, per_value_types)
    try:
        return _cast(array, target)
    except pa.ArrowNotImplementedError:
        return _uncastable_type(name, array, target, per_value_types)
    except (pa.ArrowInvalid, OverflowError):
        return _failing_positions(array, target, 0)


def _uncastable_type(
    name: str, array: pa.Array, target: pa.DataType, per_value_types: bool
) -> pa.Array | list[int]:
    """A column whose type cannot become ``target``: its valued rows, or UnsupportedCast."""
    if not per_value_types:
        raise UnsupportedCast(name, array.type, target)
    valued = pc.indices_nonzero(pc.is_valid(array)).to_pylist()
    return valued if valued else pa.nulls(len(array), target)


def _cast_kept(array: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast the rows kept after removing failures (all null when the type itself failed)."""
    if array.null_count == len(array):
        return pa.nulls(len(array), target)
    return _cast(array, target)


def cast_batch(
    batch: pa.RecordBatch, schema: pa.Schema, *, per_value_types: bool = False
) -> tuple[pa.RecordBatch, list[CastFailure]]:
    """Cast ``batch`` (columns in ``schema`` order) to ``schema``.

    Returns the good rows, cast, and one failure per rejected row (its first failing
    column), sorted by row. ``per_value_types`` says the column types were inferred
    from the values (JSON), so a column type that cannot be cast rejects rows, not
    the file.
    """
    columns: list[pa.Array] = []
    failures: dict[int, CastFailure] = {}
    for field, array in zip(schema, batch.columns, strict=True):
        result = _cast_column(field.name, array, field.type, per_value_types)
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
        [_cast_kept(pc.filter(col, mask), f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    return good, [failures[i] for i in sorted(failures)]
