"""Column types: Arrow to SQL when Ferry creates a table, SQL to a kind when it checks values.

Tables Ferry creates get a type per dialect that holds every value of the Arrow
type. For existing tables the SQL type is reduced to a kind (``int``, ``float``,
``bool``, ``date``, ``timestamp``, ...) to check text values before they are sent,
so a bad value fails with its row number on every dialect alike.
"""

from typing import Literal

import pyarrow as pa

from steps.databases.url import Dialect

Kind = Literal["int", "float", "bool", "date", "timestamp", "text", "other"]

# A key column must be indexable; MariaDB cannot index TEXT/BLOB without a length.
_MYSQL_KEY_TEXT = "VARCHAR(255)"
_MYSQL_KEY_BINARY = "VARBINARY(255)"


def sql_type(dialect: Dialect, arrow: pa.DataType, *, is_key: bool = False) -> str:
    """The column type Ferry creates for ``arrow`` values."""
    if pa.types.is_dictionary(arrow):
        return sql_type(dialect, arrow.value_type, is_key=is_key)
    if dialect == "postgresql":
        return _postgres_type(arrow)
    if dialect == "mysql":
        return _mysql_type(arrow, is_key)
    return _sqlite_type(arrow)


def _postgres_type(t: pa.DataType) -> str:
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


def _mysql_type(t: pa.DataType, is_key: bool) -> str:
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
        return f"DECIMAL({min(t.precision, 65)},{min(t.scale, 30)})"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "DATETIME(6)"
    if pa.types.is_time(t):
        return "TIME(6)"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return _MYSQL_KEY_BINARY if is_key else "LONGBLOB"
    if pa.types.is_nested(t):
        return "JSON"
    return _MYSQL_KEY_TEXT if is_key else "LONGTEXT"


def _sqlite_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_duration(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "REAL"
    if pa.types.is_decimal(t):
        return "NUMERIC"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    return "TEXT"


def kind_of(dialect: Dialect, declared: str) -> Kind:
    """The kind of value an existing column of SQL type ``declared`` accepts."""
    name = declared.lower()
    if dialect == "sqlite":
        return _sqlite_kind(name)
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


def _sqlite_kind(name: str) -> Kind:
    """SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1)."""
    if "int" in name:
        return "int"
    if "char" in name or "clob" in name or "text" in name:
        return "text"
    if "real" in name or "floa" in name or "doub" in name:
        return "float"
    if name.startswith(("date", "timestamp")):
        return "date" if name == "date" else "timestamp"
    if name.startswith("bool"):
        return "bool"
    return "other"
