"""MariaDB/MySQL column types: Arrow to SQL when Ferry creates a table, SQL to a kind.

Tables Ferry creates get a type that holds every value of the Arrow type; key
columns must be indexable, and MariaDB cannot index TEXT/BLOB without a length. For
existing tables ``information_schema.COLUMNS.COLUMN_TYPE`` is reduced to a kind to
check text values before they are sent.
"""

import pyarrow as pa

from steps.databases.dialect import Kind

_KEY_TEXT = "VARCHAR(255)"
_KEY_BINARY = "VARBINARY(255)"


def sql_type(t: pa.DataType, *, is_key: bool = False) -> str:
    """The column type Ferry creates for ``t`` values."""
    if isinstance(t, pa.BaseExtensionType):
        return sql_type(pa.string() if t.extension_name == "arrow.uuid" else t.storage_type)
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type, is_key=is_key)
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        base = {8: "TINYINT", 16: "SMALLINT", 32: "INT", 64: "BIGINT"}[t.bit_width]
        return f"{base} UNSIGNED" if pa.types.is_unsigned_integer(t) else base
    if pa.types.is_duration(t):
        return "BIGINT"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "FLOAT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_decimal(t):
        precision, scale = decimal_bounds(t)
        return f"DECIMAL({precision},{scale})"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "DATETIME(6)"
    if pa.types.is_time(t):
        return "TIME(6)"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return _KEY_BINARY if is_key else "LONGBLOB"
    if pa.types.is_nested(t):
        return "JSON"
    return _KEY_TEXT if is_key else "LONGTEXT"


def decimal_bounds(t: pa.Decimal128Type | pa.Decimal256Type) -> tuple[int, int]:
    """``DECIMAL(p,s)`` for ``t`` within MariaDB's 65 digits and scale 30.

    Fewer fraction digits keep the integer digits; the load checks that the values fit.
    """
    scale = min(t.scale, 30)
    return min(65, t.precision - t.scale + scale), scale


def kind_of(declared: str) -> Kind:
    """The kind of value a column of ``COLUMN_TYPE`` ``declared`` accepts."""
    name = declared.lower()
    if name.startswith(("timestamp", "datetime")):
        return "timestamp"
    if name == "date":
        return "date"
    if name in ("boolean", "bool"):
        return "bool"
    if name.startswith(("smallint", "integer", "bigint", "int", "tinyint", "mediumint", "year")):
        return "int"
    if name.startswith(("double", "real", "float")):
        return "float"
    if name.startswith(("character", "varchar", "char", "text", "tinytext", "mediumtext")):
        return "text"
    if name.startswith("longtext"):
        return "text"
    return "other"
