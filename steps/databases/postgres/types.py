"""PostgreSQL column types: Arrow to SQL when Ferry creates a table, SQL to a kind.

Tables Ferry creates get a type that holds every value of the Arrow type; a list of
scalars becomes an array column (``bigint[]``), other nested values ``jsonb``. For
existing tables the ``information_schema.columns.data_type`` is reduced to a kind
to check text values before they are sent.
"""

import pyarrow as pa

from steps.databases.dialect import Kind


def sql_type(t: pa.DataType, *, is_key: bool = False) -> str:
    """The column type Ferry creates for ``t`` values (keys need nothing special)."""
    if isinstance(t, pa.BaseExtensionType):
        return "text" if t.extension_name == "arrow.uuid" else sql_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type, is_key=is_key)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        element = sql_type(t.value_type)
        return "jsonb" if element == "jsonb" else f"{element}[]"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t) or pa.types.is_duration(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20,0)"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "bytea"
    if pa.types.is_nested(t):
        return "jsonb"
    return "text"


def kind_of(declared: str) -> Kind:
    """The kind of value a column of ``data_type`` ``declared`` accepts."""
    name = declared.lower()
    if name.startswith("timestamp"):
        return "timestamp"
    if name == "date":
        return "date"
    if name in ("boolean", "bool"):
        return "bool"
    if name in ("smallint", "integer", "bigint", "int", "int2", "int4", "int8"):
        return "int"  # not interval, int4range, ...
    if name.startswith(("double", "real", "float")):
        return "float"
    if name.startswith(("character", "varchar", "char", "text")):
        return "text"
    return "other"
