"""Column type names a config may declare, and the Arrow types they stand for.

The names are short and stable (``int64``, ``decimal(12,2)``, ``timestamp[tz=UTC]``)
so that a pipeline reads the same in Python, in the rendered manifest and in docs.
Checking a name needs no pyarrow, so ``ferry render`` validates configs cheaply.
"""

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

SIMPLE_TYPE_NAMES = ("string", "int32", "int64", "float32", "float64", "bool", "date", "timestamp")
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
_TIMESTAMP_TZ = re.compile(r"timestamp\[tz=([^\]]+)\]")
TYPE_NAMES_HELP = (
    f"{', '.join(SIMPLE_TYPE_NAMES)}, timestamp[tz=UTC] (or another IANA zone), "
    "decimal(precision,scale)"
)


def check_type_name(name: str) -> None:
    """Raise ValueError naming ``name`` unless it is a declarable type."""
    if name in SIMPLE_TYPE_NAMES:
        return
    if match := _DECIMAL.fullmatch(name):
        precision, scale = int(match[1]), int(match[2])
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"type {name!r} needs 1 <= precision <= 38 and scale <= precision")
        return
    if match := _TIMESTAMP_TZ.fullmatch(name):
        try:
            ZoneInfo(match[1])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"type {name!r} names unknown time zone {match[1]!r}") from None
        return
    raise ValueError(f"unknown type {name!r}; use one of: {TYPE_NAMES_HELP}")


def arrow_type(name: str) -> "pa.DataType":
    """The Arrow type of a declared type name (checked by :func:`check_type_name`)."""
    import pyarrow as pa

    check_type_name(name)
    simple = {
        "string": pa.string(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }
    if name in simple:
        return simple[name]
    if match := _DECIMAL.fullmatch(name):
        return pa.decimal128(int(match[1]), int(match[2]))
    match = _TIMESTAMP_TZ.fullmatch(name)
    assert match is not None
    return pa.timestamp("us", match[1])


def type_label(arrow: "pa.DataType") -> str:
    """The declared name of an Arrow type where there is one (``double`` -> ``float64``)."""
    import pyarrow as pa

    if pa.types.is_timestamp(arrow) and arrow.unit == "us":
        return f"timestamp[tz={arrow.tz}]" if arrow.tz else "timestamp"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    labels = {pa.float64(): "float64", pa.float32(): "float32", pa.date32(): "date"}
    return labels.get(arrow, str(arrow))


def validate_declared_columns(columns: dict[str, str] | None) -> dict[str, str] | None:
    """Pydantic field validator body shared by every source that declares columns.

    None means "infer"; an empty mapping is refused (it would declare a table with no
    columns); each type name must be known.
    """
    if columns is None:
        return None
    if not columns:
        raise ValueError("columns is empty; declare at least one column or leave it out")
    for column, type_name in columns.items():
        try:
            check_type_name(type_name)
        except ValueError as err:
            raise ValueError(f"column {column!r}: {err}") from None
    return columns


def arrow_schema(columns: dict[str, str] | None) -> "pa.Schema | None":
    """Declared columns as an Arrow schema, in declaration order; None when not declared."""
    import pyarrow as pa

    if columns is None:
        return None
    return pa.schema([(name, arrow_type(type_name)) for name, type_name in columns.items()])
