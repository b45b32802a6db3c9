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

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
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
    why: str = ""
    """Why a value that pyarrow could cast is refused (it would not stay the same)."""

    @property
    def problem(self) -> str:
        """What is wrong, for the error message and the quarantine reason."""
        value = self.value
        if self.why:
            if isinstance(value, bytes):
                value = value.decode("utf-8", "backslashreplace")
            return f"column {self.column!r}: {value!r} {self.why}"
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


def _typed_as_text(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether a typed JSON value would become text: a number or bool is not a string."""
    return pa.types.is_string(target) and _kind(source) not in ("text", "other")


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    """``pc.cast``, with raw bytes and integers taking a step on the way.

    Raw bytes become text (checked UTF-8) before any other type but a number, which
    they are parsed as directly: a number is ASCII digits, so a value that is not
    UTF-8 fails either way, and the check would be a pass over the bytes for nothing.
    Integers reach a decimal through the widest decimal of its scale: pyarrow refuses
    int64 to ``decimal(10,2)`` outright (it wants the precision to hold any int64),
    which would reject every value; going wide first rejects only the values that do
    not fit.
    """
    if pa.types.is_binary(array.type) and not pa.types.is_binary(target):
        if pa.types.is_integer(target) or pa.types.is_floating(target):
            return pc.cast(array, target)
        array = pc.cast(array, pa.string())
        if pa.types.is_string(target):
            return array
    if pa.types.is_integer(array.type) and pa.types.is_decimal(target):
        wide = pa.decimal256(76, target.scale) if target.bit_width == 256 else None
        array = pc.cast(array, wide or pa.decimal128(38, target.scale))
    return pc.cast(array, target)


_LEADING_ZERO = r"^[-+]?0[0-9]"
_NOT_SIGNIFICANT = r"^[-+]?|[eE].*$|\."
_FLOAT64_DIGITS = 15
"""Significant digits every decimal text with at most this many keeps through a float64."""


def inexact_number_text(array: pa.Array, target: pa.DataType) -> pa.Array | None:
    """For text cast to an inferred number type: which values the number would not keep.

    A leading zero (``01234``, a code rather than a quantity) would be dropped, and a
    float64 keeps at most 15 significant digits. None when ``target`` is not a number
    type or ``array`` is not text.
    """
    is_text = pa.types.is_binary(array.type) or pa.types.is_string(array.type)
    is_number = pa.types.is_integer(target) or pa.types.is_floating(target)
    if not is_text or not is_number:
        return None
    text = pc.cast(array, pa.binary())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    zero_first = pc.or_(
        pc.starts_with(text, "0"), pc.or_(pc.starts_with(text, "-0"), pc.starts_with(text, "+0"))
    )
    changed = _check_some(
        text, zero_first, lambda some: pc.match_substring_regex(some, _LEADING_ZERO)
    )
    if pa.types.is_floating(target):
        long = pc.greater(pc.binary_length(text), _FLOAT64_DIGITS)
        changed = pc.or_(changed, _check_some(text, long, _too_many_digits))
    return changed


def _too_many_digits(text: pa.Array) -> pa.Array:
    digits = pc.replace_substring_regex(text, _NOT_SIGNIFICANT, "")
    digits = pc.replace_substring_regex(digits, r"^0+|0+$", "")
    return pc.greater(pc.binary_length(digits), _FLOAT64_DIGITS)


def _check_some(
    text: pa.Array, candidates: pa.Array, check: Callable[[pa.Array], pa.Array]
) -> pa.Array:
    """``check`` on the candidate values only (regexes are slow), False for the others."""
    candidates = pc.fill_null(candidates, False)
    out = np.zeros(len(text), bool)
    if pc.any(candidates).as_py():
        positions = pc.indices_nonzero(candidates)
        result = pc.fill_null(check(pc.take(text, positions)), False)
        out[positions.to_numpy()] = result.to_numpy(zero_copy_only=False)
    return pa.array(out)


def _inexact_why(value: object, target: pa.DataType) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    label = type_label(target)
    if re.match(_LEADING_ZERO, text):
        return (
            f"has leading zeros, which {label} (the type inferred from the first file's sample) "
            "would drop; declare the column as string"
        )
    return (
        f"has more significant digits than {label} (the type inferred from the first file's "
        f"sample) keeps ({_FLOAT64_DIGITS}); declare the column as string or decimal(p,s)"
    )


def _lost_values(array: pa.Array, target: pa.DataType) -> pa.Array | None:
    """For typed nested values: per row, whether casting to ``target`` would lose part of it.

    pyarrow casts a struct by field name and drops the fields the target lacks, so
    ``{"b": 1}`` cast to ``struct<a>`` silently becomes ``{"a": null}``. A row loses a
    value when it has a non-null field the target struct lacks, or a nested value of a
    kind its target would change (see ``_refused``), at any depth of structs and lists.
    """
    if pa.types.is_struct(array.type) and pa.types.is_struct(target):
        masks = []
        struct = array.type
        for index in range(struct.num_fields):
            name = struct.field(index).name
            child = array.field(index)
            position = target.get_field_index(name)
            if position == -1:
                masks.append(pc.is_valid(child))
                continue
            lost = _lost_values(child, target.field(position).type)
            if lost is not None:
                masks.append(lost)
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = pc.or_(combined, mask)
        return pc.and_(pc.fill_null(combined, False), pc.is_valid(array))
    if _is_list(array.type) and _is_list(target):
        values = pc.list_flatten(array)
        lost = _lost_values(values, target.value_type)
        if lost is None:
            return None
        parents = pc.filter(pc.list_parent_indices(array), pc.fill_null(lost, False))
        rows = np.zeros(len(array), bool)
        rows[parents.to_numpy()] = True
        return pa.array(rows)
    if _is_nested(target) or _is_nested(array.type):
        return None
    if _refused(array.type, target):
        return pc.is_valid(array)
    return None


def _is_list(arrow: pa.DataType) -> bool:
    return pa.types.is_list(arrow) or pa.types.is_large_list(arrow)


def _is_nested(arrow: pa.DataType) -> bool:
    return pa.types.is_nested(arrow)


def _lost_why(target: pa.DataType) -> str:
    return (
        f"does not fit {target} (the type inferred from the first lines): a key or value of "
        "another kind would be lost; declare columns in the config"
    )


_FAILED_VALUE = re.compile(r"^Failed to parse string: '(.*)' as a scalar of type ", re.DOTALL)
_VALUE_ROUNDS = 8
"""Failing values taken from cast errors per column of a batch before bisecting the rest."""


def _failed_value(err: Exception, array: pa.Array) -> pa.Scalar | None:
    """The value a cast error names, as a scalar of ``array``'s text type (None if unnamed)."""
    found = _FAILED_VALUE.match(str(err))
    if found is None:
        return None
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pa.scalar(found.group(1), array.type)
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        return pa.scalar(found.group(1).encode("utf-8"), array.type)
    return None


@dataclass(frozen=True)
class _Rejected:
    """A column some of whose values fail to cast: where they are, and the others cast."""

    failing: np.ndarray
    """Per row of the batch, whether its value fails."""
    rest: pa.Array
    """The values of the other rows, cast, in order."""

    @property
    def positions(self) -> list[int]:
        return np.flatnonzero(self.failing).tolist()


def _failing_values(array: pa.Array, target: pa.DataType, error: Exception) -> _Rejected:
    """The values of ``array`` that fail to cast to ``target``, and the others cast.

    ``error`` is what casting the whole array raised. Casting is per value, so every
    value equal to the one a cast error names fails too: each round marks all of
    them and casts what is left, which finds a repeated bad value (``n/a`` in a
    number column) with one more cast instead of a bisection per occurrence. Values
    the errors do not name are bisected. The last cast, of the values that pass, is
    the column's result, so no value is cast again once the bad ones are known.
    """
    failing = np.zeros(len(array), bool)
    for _ in range(_VALUE_ROUNDS):
        value = _failed_value(error, array)
        if value is None:
            break
        matched = pc.fill_null(pc.equal(array, value), False).to_numpy(zero_copy_only=False)
        if not (matched & ~failing).any():
            break
        failing |= matched
        try:
            return _Rejected(failing, _cast(array.filter(pa.array(~failing)), target))
        except (pa.ArrowInvalid, OverflowError) as err:
            error = err
    rest = np.flatnonzero(~failing)
    found = _bisect(array.take(pa.array(rest)), target, 0)
    failing[rest[found]] = True
    return _Rejected(failing, _cast(array.filter(pa.array(~failing)), target))


def _bisect(array: pa.Array, target: pa.DataType, offset: int) -> list[int]:
    try:
        _cast(array, target)
    except (pa.ArrowInvalid, OverflowError):
        if len(array) == 1:
            return [offset]
        half = len(array) // 2
        return _bisect(array.slice(0, half), target, offset) + _bisect(
            array.slice(half), target, offset + half
        )
    return []


def _cast_column(
    name: str, array: pa.Array, target: pa.DataType, per_value_types: bool
) -> "pa.Array | _Rejected":
    """The cast column, or which of its values fail to cast and the others cast.

    With ``per_value_types`` a type that cannot be cast at all fails only the rows
    that have a value (nulls fit any type), because the type came from those values.
    """
    if array.type == target:
        return array
    if _refused(array.type, target) or (per_value_types and _typed_as_text(array.type, target)):
        return _uncastable_type(name, array, target, per_value_types)
    try:
        return _cast(array, target)
    except pa.ArrowNotImplementedError:
        return _uncastable_type(name, array, target, per_value_types)
    except (pa.ArrowInvalid, OverflowError) as err:
        return _failing_values(array, target, err)


def _uncastable_type(
    name: str, array: pa.Array, target: pa.DataType, per_value_types: bool
) -> "pa.Array | _Rejected":
    """A column whose type cannot become ``target``: its valued rows fail, or UnsupportedCast."""
    if not per_value_types:
        raise UnsupportedCast(name, array.type, target)
    valued = pc.is_valid(array).to_numpy(zero_copy_only=False)
    if not valued.any():
        return pa.nulls(len(array), target)
    return _Rejected(valued, pa.nulls(len(array) - int(valued.sum()), target))


def _refused_values(
    field: pa.Field, array: pa.Array, *, per_value_types: bool, exact_text: bool
) -> list[CastFailure]:
    """Values pyarrow could cast but that would not stay the same: failures with a reason."""
    if exact_text:
        changed = inexact_number_text(array, field.type)
    elif per_value_types and array.type != field.type and _is_nested(array.type):
        changed = _lost_values(array, field.type)
    else:
        return []
    if changed is None or not pc.any(changed).as_py():
        return []
    failures = []
    for index in pc.indices_nonzero(changed).to_pylist():
        value = array[index].as_py()
        why = _inexact_why(value, field.type) if exact_text else _lost_why(field.type)
        failures.append(CastFailure(index, field.name, value, field.type, why))
    return failures


def cast_batch(
    batch: pa.RecordBatch,
    schema: pa.Schema,
    *,
    per_value_types: bool = False,
    exact_text: bool = False,
) -> tuple[pa.RecordBatch, list[CastFailure]]:
    """Cast ``batch`` (columns in ``schema`` order) to ``schema``.

    Returns the good rows, cast, and one failure per rejected row (its first failing
    column), sorted by row. ``per_value_types`` says the column types were inferred
    from the values (JSON), so a column type that cannot be cast rejects rows, not
    the file, and a nested value that would lose a key rejects its row. ``exact_text``
    says the number types were inferred from text (CSV), so a text the number would
    not keep (see ``inexact_number_text``) rejects its row.
    """
    columns: list[pa.Array | _Rejected] = []
    failures: dict[int, CastFailure] = {}
    for field, array in zip(schema, batch.columns, strict=True):
        for refused in _refused_values(
            field, array, per_value_types=per_value_types, exact_text=exact_text
        ):
            failures.setdefault(refused.index, refused)
        result = _cast_column(field.name, array, field.type, per_value_types)
        if isinstance(result, _Rejected):
            for index in result.positions:
                failures.setdefault(
                    index, CastFailure(index, field.name, array[index].as_py(), field.type)
                )
        columns.append(result)
    if not failures:
        return pa.RecordBatch.from_arrays(columns, schema=schema), []
    keep = np.ones(batch.num_rows, bool)
    keep[list(failures)] = False
    kept = pa.array(keep)
    good = pa.RecordBatch.from_arrays(
        [
            column.rest.filter(pa.array(keep[~column.failing]))
            if isinstance(column, _Rejected)
            else column.filter(kept)
            for column in columns
        ],
        schema=schema,
    )
    return good, [failures[i] for i in sorted(failures)]
