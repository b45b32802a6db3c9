"""Column types of HTTP records: JSON values converted to the declared types.

The type names and their Arrow types are the ones every source uses
(``steps.runtime.column_types``: string, int32, int64, float32, float64, bool, date,
timestamp, timestamp[tz=ZONE], decimal(p,s)). Conversion is strict and fails on the
first value that does not fit, so a wrong value never reaches a table as a silent
null. Nested objects and arrays become JSON text in a string column.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from steps.runtime.column_types import arrow_type, check_type_name

if TYPE_CHECKING:
    import pyarrow as pa

Convert = Callable[[Any], Any]

_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
_TIMESTAMP_TZ = re.compile(r"timestamp\[tz=([^\]]+)\]")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class ValueMismatch(ValueError):
    """A JSON value does not fit its column's type."""


@dataclass(frozen=True)
class ColumnType:
    """A column type: its name, its Arrow type and the conversion of a JSON value to it."""

    name: str
    convert: Convert

    def arrow_type(self) -> "pa.DataType":
        """The Arrow type values of this column are written as."""
        return arrow_type("string" if self.name == "json" else self.name)


def json_text(value: Any) -> str:
    """Compact JSON text of a nested value (object or array)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _show(value: Any) -> str:
    text = json_text(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "json"


def _mismatch(value: Any, type_name: str) -> ValueMismatch:
    return ValueMismatch(f"value {_show(value)} ({_json_kind(value)}) is not {type_name}")


def _to_string(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)


def _integer(type_name: str) -> Convert:
    low, high = _INT_RANGES[type_name]

    def convert(value: Any) -> int:
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(value, type_name)
        if not low <= value <= high:
            raise ValueMismatch(f"value {value} is out of range for {type_name}")
        return value

    return convert


def _floating(type_name: str) -> Convert:
    def convert(value: Any) -> float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _mismatch(value, type_name) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _mismatch(value, type_name)
        return float(value)

    return convert


def _to_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _mismatch(value, "bool")
    return value


def _to_date(value: Any) -> date:
    if not isinstance(value, str):
        raise _mismatch(value, "date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueMismatch(f"value {_show(value)} is not an ISO date (YYYY-MM-DD)") from None


def _parse_datetime(value: Any, type_name: str) -> datetime:
    if not isinstance(value, str):
        raise _mismatch(value, type_name)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueMismatch(f"value {_show(value)} is not an ISO 8601 timestamp") from None


def _to_naive_timestamp(value: Any) -> datetime:
    parsed = _parse_datetime(value, "timestamp")
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _zoned_timestamp(zone_name: str) -> Convert:
    type_name = f"timestamp[tz={zone_name}]"
    zone = UTC if zone_name == "UTC" else ZoneInfo(zone_name)

    def convert(value: Any) -> datetime:
        parsed = _parse_datetime(value, type_name)
        return parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)

    return convert


def _decimal(precision: int, scale: int) -> Convert:
    type_name = f"decimal({precision},{scale})"
    quantum = Decimal(1).scaleb(-scale)

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _mismatch(value, type_name)
        try:
            number = Decimal(str(value).strip())
            fitted = number.quantize(quantum)
        except InvalidOperation:
            raise _mismatch(value, type_name) from None
        if fitted != number or len(fitted.as_tuple().digits) > precision:
            raise ValueMismatch(f"value {_show(value)} does not fit {type_name} without rounding")
        return fitted

    return convert


def parse_column_type(type_name: str) -> ColumnType:
    """The declared column type called ``type_name``; ValueError names the known ones."""
    check_type_name(type_name)
    simple: dict[str, Convert] = {
        "string": _to_string,
        "int32": _integer("int32"),
        "int64": _integer("int64"),
        "float32": _floating("float32"),
        "float64": _floating("float64"),
        "bool": _to_bool,
        "date": _to_date,
        "timestamp": _to_naive_timestamp,
    }
    if type_name in simple:
        return ColumnType(type_name, simple[type_name])
    if match := _DECIMAL.fullmatch(type_name):
        return ColumnType(type_name, _decimal(int(match[1]), int(match[2])))
    match = _TIMESTAMP_TZ.fullmatch(type_name)
    assert match is not None, type_name
    return ColumnType(type_name, _zoned_timestamp(match[1]))


def _exactly(kind: str) -> Convert:
    def convert(value: Any) -> Any:
        if _json_kind(value) != kind:
            raise _mismatch(value, kind)
        return json_text(value) if kind == "json" else value

    return convert


def _float_or_int(value: Any) -> float:
    if _json_kind(value) not in ("int64", "float64"):
        raise _mismatch(value, "float64")
    return float(value)


def inferred_type(value: Any) -> ColumnType:
    """The column type a JSON value implies; later values must keep to it."""
    kind = _json_kind(value)
    if kind == "float64":
        return ColumnType("float64", _float_or_int)
    return ColumnType(kind, _exactly(kind))


def widened(current: ColumnType, value: Any) -> ColumnType | None:
    """The type that holds both ``current`` and ``value`` on the first page, if any.

    Only int64 widens to float64 (``10`` then ``10.5``); any other mix is drift.
    """
    kind = _json_kind(value)
    if current.name == kind or (current.name == "float64" and kind == "int64"):
        return current
    if current.name == "int64" and kind == "float64":
        return inferred_type(value)
    return None
