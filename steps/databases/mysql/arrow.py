"""MariaDB/MySQL result rows to Arrow record batches, a chunk at a time.

PyMySQL hands rows as tuples; each chunk is turned into columns and every column
into an Arrow array in one ``pa.array`` call (C++ conversion, no per-value Python).
The Arrow type of each column comes from the result's column types, so a chunk of
nulls still has the schema of the rest; text and binary share wire types and are
told apart by the first non-null value.
"""

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pymysql.constants import FIELD_TYPE

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
_TIMESTAMP = {FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP}
_DATE = {FIELD_TYPE.DATE, FIELD_TYPE.NEWDATE}
_BINARY = {FIELD_TYPE.BIT, FIELD_TYPE.GEOMETRY}
_TEXT_OR_BINARY = {
    FIELD_TYPE.VARCHAR,
    FIELD_TYPE.VAR_STRING,
    FIELD_TYPE.STRING,
    FIELD_TYPE.TINY_BLOB,
    FIELD_TYPE.MEDIUM_BLOB,
    FIELD_TYPE.LONG_BLOB,
    FIELD_TYPE.BLOB,
}


def _known_type(type_code: int, length: int | None, scale: int | None) -> pa.DataType | None:
    """The Arrow type for a column's wire type; None when the values must decide."""
    if type_code in _INTEGER:
        return pa.int64()
    if type_code in _FLOAT:
        return pa.float64()
    if type_code in _DECIMAL:
        scale = scale or 0
        precision = min(38, max(1, (length or 38) - (1 if scale else 0)))
        return pa.decimal128(precision, min(scale, precision))
    if type_code in _TIMESTAMP:
        return pa.timestamp("us")
    if type_code in _DATE:
        return pa.date32()
    if type_code == FIELD_TYPE.TIME:
        return pa.duration("us")
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
        self.schema: pa.Schema | None = None

    def build(self, rows: Sequence[tuple[Any, ...]]) -> pa.RecordBatch:
        """One record batch from a chunk of rows."""
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self._names]
        if self.schema is None:
            self.schema = pa.schema(
                [
                    pa.field(name, t if t is not None else _decide_text_type(values))
                    for name, t, values in zip(self._names, self._types, columns, strict=True)
                ]
            )
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(columns, self.schema, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _decide_text_type(values: Sequence[Any]) -> pa.DataType:
    first = next((v for v in values if v is not None), None)
    return pa.binary() if isinstance(first, bytes | bytearray) else pa.string()
