"""SQLite column types: Arrow to a declared type when Ferry creates a table, back to a kind.

SQLite stores values by type affinity; the declared types Ferry creates give each
Arrow type the affinity that keeps its values, and an existing column's declared
type is reduced to a kind by SQLite's own affinity rules.
"""

import pyarrow as pa

from steps.databases.dialect import Kind


def sql_type(t: pa.DataType, *, is_key: bool = False) -> str:
    """The declared type Ferry creates for ``t`` values (keys need nothing special)."""
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type, is_key=is_key)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_duration(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "REAL"
    if pa.types.is_decimal(t):
        # NUMERIC affinity stores a REAL: exact up to 15 digits; wider decimals as text
        return "NUMERIC" if t.precision <= 15 else "TEXT"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    return "TEXT"


def kind_of(declared: str) -> Kind:
    """SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1)."""
    name = declared.lower()
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
