"""MariaDB/MySQL result rows to Arrow record batches, a chunk at a time.

PyMySQL hands rows as tuples; each chunk is turned into columns and every column
into an Arrow array in one ``pa.array`` call (C++ conversion, no per-value Python).
The Arrow type of each column comes from the result's column types, so a chunk of
nulls still has the schema of the rest; text and binary share wire types and are
told apart by the first non-null value.

Portable types: ``DECIMAL(p,s)`` -> ``decimal128(p,s)`` (``decimal256`` above 38
digits), ``DATETIME`` and ``TIMESTAMP`` -> ``timestamp[us]`` (``TIMESTAMP`` in UTC,
the session's time zone), ``TIME`` -> ``time64[us]``, ``BIT(1)`` -> ``bool``,
``BIT(n)`` -> ``int64``, every integer (``BIGINT UNSIGNED`` too) -> ``int64``. A
value the type cannot hold (a zero date ``0000-00-00``, a ``BIGINT UNSIGNED`` above
2^63-1, a ``TIME`` outside 00:00..24:00) raises :class:`UnportableValue`.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pymysql.constants import FIELD_TYPE

from steps.databases.errors import UnportableValue

_INTEGER = {
    FIELD_TYPE.TINY,
    FIELD_TYPE.SHORT,
    FIELD_TYPE.LONG,
    FIELD_TYPE.INT24,
    FIELD_TYPE.LONGLONG,
    FIELD_TYPE.YEAR,
}
_FLOAT = {FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE}
_DECIMAL = {FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL}
_DATE = {FIELD_TYPE.DATE, FIELD_TYPE.NEWDATE}
_BINARY = {FIELD_TYPE.GEOMETRY}
_TEXT_OR_BINARY = {
    FIELD_TYPE.VARCHAR,
    FIELD_TYPE.VAR_STRING,
    FIELD_TYPE.STRING,
    FIELD_TYPE.TINY_BLOB,
    FIELD_TYPE.MEDIUM_BLOB,
    FIELD_TYPE.LONG_BLOB,
    FIELD_TYPE.BLOB,
}
_DAY_US = 86_400_000_000


def _known_type(type_code: int, length: int | None, scale: int | None) -> pa.DataType | None:
    """The Arrow type for a column's wire type; None when the values must decide."""
    if type_code in _INTEGER:
        return pa.int64()
    if type_code in _FLOAT:
        return pa.float64()
    if type_code in _DECIMAL:
        scale = scale or 0
        # the display length counts a sign and, with a scale, the decimal point
        precision = max(scale, 1, (length or 66) - 1 - (1 if scale else 0))
        if precision > 38:
            return pa.decimal256(min(precision, 76), scale)
        return pa.decimal128(precision, scale)
    if type_code in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP):
        # TIMESTAMP values come in the session's time zone, UTC; they stay naive like
        # DATETIME so stored cursor marks keep comparing with them
        return pa.timestamp("us")
    if type_code in _DATE:
        return pa.date32()
    if type_code == FIELD_TYPE.TIME:
        return pa.time64("us")
    if type_code == FIELD_TYPE.BIT:
        return pa.bool_() if length == 1 else pa.int64()
    if type_code in _BINARY:
        return pa.binary()
    if type_code in _TEXT_OR_BINARY:
        return None
    return pa.string()


class MysqlBatchBuilder:
    """Turns chunks of result rows into record batches with one stable schema."""

    def __init__(self, description: Sequence[Sequence[Any]]) -> None:
        self._names = [str(d[0]) for d in description]
        self._types: list[pa.DataType | None] = [_known_type(d[1], d[3], d[5]) for d in description]
        self._bits = [d[1] == FIELD_TYPE.BIT for d in description]
        self.schema: pa.Schema | None = None

    def build(self, rows: Sequence[tuple[Any, ...]], first_row: int = 1) -> pa.RecordBatch:
        """One record batch from a chunk of rows (``first_row``: the chunk's first, from 1)."""
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self._names]
        if self.schema is None:
            self.schema = pa.schema(
                [
                    pa.field(name, t if t is not None else _decide_text_type(values))
                    for name, t, values in zip(self._names, self._types, columns, strict=True)
                ]
            )
        arrays = [
            _array(field, values, bit, first_row)
            for values, field, bit in zip(columns, self.schema, self._bits, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _array(field: pa.Field, values: Sequence[Any], bit: bool, first_row: int) -> pa.Array:
    t = field.type
    if bit:
        values = [None if v is None else int.from_bytes(v, "big") for v in values]
        if pa.types.is_boolean(t):
            values = [None if v is None else bool(v) for v in values]
    elif pa.types.is_time(t):
        values = [_time_of_day(field.name, v, first_row + i) for i, v in enumerate(values)]
        return pa.array(values, pa.int64()).cast(t)
    try:
        return pa.array(values, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        raise _unportable(field, values, first_row) from None


def _time_of_day(name: str, value: dt.timedelta | None, row: int) -> int | None:
    if value is None:
        return None
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if not 0 <= micros < _DAY_US:
        sign, magnitude = ("-", -micros) if micros < 0 else ("", micros)
        seconds, fraction = divmod(magnitude, 1_000_000)
        text = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        raise UnportableValue(
            name,
            row,
            text + (f".{fraction:06d}" if fraction else ""),
            "is a TIME outside 00:00:00..23:59:59.999999, which a time of day cannot hold",
            f"read it as a number in the query (TIME_TO_SEC({name}))",
        )
    return micros


def _unportable(field: pa.Field, values: Sequence[Any], first_row: int) -> UnportableValue:
    """The first value that ``pa.array`` refused, named (error path only)."""
    index = next((i for i, v in enumerate(values) if not _fits(v, field.type)), 0)
    value = values[index] if values else None
    name, row = field.name, first_row + index
    if isinstance(value, str) and (
        pa.types.is_date(field.type) or pa.types.is_timestamp(field.type)
    ):
        return UnportableValue(
            name,
            row,
            value,
            "is a MariaDB/MySQL zero or partial date, which no other database stores",
            f"make it NULL in the query (NULLIF({name}, '{value}')) or fix the rows",
        )
    if isinstance(value, int):
        return UnportableValue(
            name,
            row,
            value,
            f"does not fit {field.type} (BIGINT UNSIGNED reads as int64)",
            f"read it as a decimal in the query (CAST({name} AS DECIMAL(20,0)))",
        )
    return UnportableValue(name, row, value, f"does not fit {field.type}", "cast it in the query")


def _fits(value: Any, t: pa.DataType) -> bool:
    try:
        pa.array([value], type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return False
    return True


def _decide_text_type(values: Sequence[Any]) -> pa.DataType:
    first = next((v for v in values if v is not None), None)
    return pa.binary() if isinstance(first, bytes | bytearray) else pa.string()
