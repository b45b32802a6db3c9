"""PostgreSQL results as portable Arrow: what ADBC hands over, reshaped per column type.

ADBC reads ``COPY ... (FORMAT binary)`` and labels each field with its PostgreSQL
type (``POSTGRESQL:type``, ``POSTGRESQL:typmod``). Types it has no Arrow type for
arrive as opaque extension types (``numeric`` as text, ``inet`` as wire bytes),
``uuid`` and ``json`` as extension types, ``interval`` as month/day/nano, which
Parquet cannot store. :class:`PortableSelect` first asks for the result's schema,
casts the types ADBC only has wire bytes for to text in the SELECT, then turns
every batch into plain Arrow types that any target loads:

- ``numeric(p,s)`` -> ``decimal128(p,s)`` (``decimal256`` above 38 digits, text above
  76); ``numeric`` without precision -> ``decimal128(38,18)``; ``money`` -> like
  ``numeric``; a value that does not fit (NaN, infinity, more digits) stops the read.
- ``uuid`` -> canonical lower-case text; ``json``/``jsonb`` -> JSON text;
  ``interval`` -> ISO 8601 duration text (``P1Y2M3DT4H5M6.5S``).
- arrays -> Arrow lists of the element's portable type; multi-dimensional arrays
  stop the read (ADBC would flatten them).
- ``timestamp``/``timestamptz``/``date`` ``infinity`` stops the read.
- everything else ADBC has no Arrow type for (``inet``, ``macaddr``, ``bit``,
  ``xml``, ``timetz``, enums, ranges, ...) -> its PostgreSQL text form.
"""

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from steps.databases.errors import UnportableValue
from steps.databases.postgres.sql import quote_part
from steps.databases.uuids import uuid_text
from steps.runtime.errors import StepUsageError

_TYPE = b"POSTGRESQL:type"
_TYPMOD = b"POSTGRESQL:typmod"
_NDIMS = "_ferry_ndims_"

UNCONSTRAINED_NUMERIC = pa.decimal128(38, 18)
"""What a ``numeric`` column without precision and scale reads as."""

_WIDE = 76  # digits of decimal256
# ADBC shifts PostgreSQL's +-infinity (int64/int32 extremes) by the epoch offset:
# they land far below any real value (PostgreSQL's earliest is 4713 BC).
_TIMESTAMP_FLOOR = -9_000_000_000_000_000_000
_DATE_FLOOR = -2_000_000_000
_MINUS_INFINITY = (-(2**63) + 946_684_800_000_000, -(2**31) + 10_957)


def _storage(t: pa.DataType) -> pa.DataType:
    return t.storage_type if isinstance(t, pa.BaseExtensionType) else t


def _needs_text(t: pa.DataType) -> bool:
    """ADBC has only the binary wire form of this type: read its text form instead."""
    return isinstance(t, pa.BaseExtensionType) and pa.types.is_binary(t.storage_type)


def decimal_type(typmod: int) -> pa.DataType:
    """The Arrow type of ``numeric`` with type modifier ``typmod`` (-1: unconstrained)."""
    if typmod < 4:
        return UNCONSTRAINED_NUMERIC
    precision = ((typmod - 4) >> 16) & 0xFFFF
    scale = (typmod - 4) & 0x7FF
    if scale & 0x400:  # PostgreSQL 15 allows a negative scale: numeric(5,-2)
        scale -= 0x800
    if scale < 0:
        precision, scale = precision - scale, 0
    if precision > _WIDE:
        return pa.string()
    if precision > 38:
        return pa.decimal256(precision, scale)
    return pa.decimal128(precision, scale)


@dataclass(frozen=True)
class _Column:
    name: str
    pg_type: str
    typmod: int
    is_array: bool


class PortableSelect:
    """The SELECT to run for ``sql`` and the conversion of each batch it returns."""

    def __init__(self, sql: str, schema: pa.Schema) -> None:
        self.columns: list[_Column] = []
        projection: list[str] = []
        checks: list[str] = []
        rewrite = False
        for index, field in enumerate(schema):
            meta = field.metadata or {}
            pg_type = meta.get(_TYPE, b"").decode()
            typmod = int(meta.get(_TYPMOD, b"-1") or -1)
            is_array = pa.types.is_list(field.type) or pa.types.is_large_list(field.type)
            element = field.type.value_type if is_array else field.type
            column = quote_part(field.name)
            if pg_type == "money":
                projection.append(f"{column}::numeric AS {column}")
                pg_type, rewrite = "numeric", True
            elif pg_type == "_money":
                projection.append(f"{column}::numeric[] AS {column}")
                pg_type, rewrite = "_numeric", True
            elif _needs_text(element):
                projection.append(f"{column}::text{'[]' if is_array else ''} AS {column}")
                pg_type, rewrite = ("_text" if is_array else "text"), True
            else:
                projection.append(column)
            if is_array:
                checks.append(f"array_ndims({column}) AS {quote_part(f'{_NDIMS}{index}')}")
                rewrite = True
            self.columns.append(_Column(field.name, pg_type, typmod, is_array))
        names = [c.name for c in self.columns]
        if rewrite and len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise StepUsageError(
                f"the query returns column(s) {', '.join(map(repr, twice))} more than once; "
                "give each column of the SELECT its own name (AS ...)"
            )
        if rewrite:
            self.sql = f"SELECT {', '.join(projection + checks)} FROM (\n{sql}\n) AS _ferry_types"
        else:
            self.sql = sql

    def convert(self, batch: pa.RecordBatch, first_row: int) -> pa.RecordBatch:
        """``batch`` (rows ``first_row``... of the result) in portable Arrow types."""
        arrays: list[pa.Array] = []
        checks = iter(batch.columns[len(self.columns) :])
        for column, array in zip(self.columns, batch.columns, strict=False):
            if column.is_array:
                _refuse_dimensions(column.name, next(checks), first_row)
            arrays.append(_portable(column, array, first_row))
        return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in self.columns])


def _refuse_dimensions(name: str, ndims: pa.Array, first_row: int) -> None:
    deep = pc.fill_null(pc.greater(ndims, 1), False)
    if pc.any(deep).as_py():
        index = pc.index(deep, True).as_py()
        raise UnportableValue(
            name,
            first_row + index,
            f"{ndims[index].as_py()}-dimensional array",
            "has no portable form (an Arrow list is one-dimensional)",
            f"select to_jsonb({name}) for JSON text, or unnest it in the query",
        )


def _portable(column: _Column, array: pa.Array, first_row: int) -> pa.Array:
    if column.is_array:
        element = _Column(column.name, column.pg_type.removeprefix("_"), -1, False)
        values = array.values
        parents = pc.list_parent_indices(array)
        try:
            converted = _scalar(element, values, 0)
        except UnportableValue as err:  # the element's index, as the row holding it
            row = first_row + int(parents[err.row].as_py())
            raise UnportableValue(column.name, row, err.value, *err.args[1:]) from None
        return pa.ListArray.from_arrays(array.offsets, converted, mask=array.is_null())
    return _scalar(column, array, first_row)


def _scalar(column: _Column, array: pa.Array, first_row: int) -> pa.Array:
    t = array.type
    storage = array.storage if isinstance(array, pa.ExtensionArray) else array
    name = column.name
    if column.pg_type == "numeric":
        return _decimal(name, storage, decimal_type(column.typmod), first_row)
    if column.pg_type == "uuid" and pa.types.is_fixed_size_binary(storage.type):
        return uuid_text(storage)
    if pa.types.is_interval(t):
        return pa.array([None if v is None else iso_interval(v) for v in array.to_pylist()])
    if pa.types.is_timestamp(t):
        _refuse_infinity(name, pc.cast(array, pa.int64()), _TIMESTAMP_FLOOR, first_row)
    elif pa.types.is_date32(t):
        _refuse_infinity(name, pc.cast(array, pa.int32()), _DATE_FLOOR, first_row)
    return storage


def _decimal(name: str, text: pa.Array, target: pa.DataType, first_row: int) -> pa.Array:
    if pa.types.is_string(target):
        return text
    wide = pa.decimal256(_WIDE, target.scale)
    try:
        return pc.cast(pc.cast(text, wide), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for index in range(len(text)):
        try:
            pc.cast(pc.cast(text.slice(index, 1), wide), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            value = text[index].as_py()
            break
    else:  # pragma: no cover - the whole cast failed, so one value does
        index, value = 0, None
    if str(value).lower() in ("nan", "infinity", "-infinity"):
        why = f"is not a number {target} holds"
    else:
        why = f"needs more digits than {target}"
    unconstrained = target == UNCONSTRAINED_NUMERIC
    fix = (
        "numeric without precision reads as decimal(38,18); round it or give it a type in "
        f"the query (round({name}, 18), {name}::numeric(50,20)) or make it NULL"
        if unconstrained
        else f"fix the value or make it NULL in the query (NULLIF({name}, 'NaN'))"
    )
    raise UnportableValue(name, first_row + index, value, why, fix)


def _refuse_infinity(name: str, ints: pa.Array, floor: int, first_row: int) -> None:
    infinite = pc.fill_null(pc.less(ints, floor), False)
    if not pc.any(infinite).as_py():
        return
    index = pc.index(infinite, True).as_py()
    # -infinity is the type's minimum moved by the epoch offset; +infinity, its maximum
    # moved the same way, wraps around to one below that.
    value = "-infinity" if ints[index].as_py() in _MINUS_INFINITY else "infinity"
    raise UnportableValue(
        name,
        first_row + index,
        value,
        "has no Arrow or Parquet timestamp/date",
        f"make it NULL or a real date in the query (NULLIF({name}, '{value}'), "
        f"CASE WHEN isfinite({name}) THEN {name} END)",
    )


def iso_interval(value: pa.MonthDayNano | tuple[int, int, int]) -> str:
    """An interval as ISO 8601 duration text; each part keeps its sign (``P1M-2D``)."""
    months, days, nanos = value
    years = int(months / 12)
    months -= years * 12
    text = "P" + "".join(
        f"{n}{unit}" for n, unit in ((years, "Y"), (months, "M"), (days, "D")) if n
    )
    if nanos:
        sign = "-" if nanos < 0 else ""
        hours, rest = divmod(abs(nanos), 3_600_000_000_000)
        minutes, rest = divmod(rest, 60_000_000_000)
        seconds, fraction = divmod(rest, 1_000_000_000)
        clock = f"{sign}{hours}H" if hours else ""
        clock += f"{sign}{minutes}M" if minutes else ""
        if seconds or fraction:
            digits = f".{fraction:09d}".rstrip("0") if fraction else ""
            clock += f"{sign}{seconds}{digits}S"
        text += "T" + clock
    return text if text != "P" else "PT0S"
