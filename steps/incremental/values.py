"""Cursor values between JSON (state, manifest, config), Python and Arrow; lag arithmetic.

A mark is stored as JSON with a ``kind`` (``int``, ``float``, ``decimal``, ``date``,
``timestamp``, ``text``) so the next run can subtract ``lag`` and bind a typed bound
before it sees a single row. Decimals are stored as text (exact), dates and
timestamps as ISO 8601 text.

Comparisons happen on a *comparable* form of the cursor column: numeric, date and
timestamp columns as they are; a text column (HTTP records) is compared as numbers
when its values are numeric text, as instants when they are ISO 8601 (text without
an offset counts as UTC), otherwise as text, so ``"10"`` sorts after ``"9"``.
"""

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from steps.runtime.config import CursorValue
from steps.runtime.errors import DataRejected, StepUsageError

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["int", "float", "decimal", "date", "timestamp", "text"]
KINDS: tuple[Kind, ...] = ("int", "float", "decimal", "date", "timestamp", "text")

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def kind_of_type(arrow_type: "pa.DataType") -> Kind:
    """The kind of a (comparable) Arrow cursor column.

    Raises:
        DataRejected: the type cannot carry a high-water mark.
    """
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_decimal(arrow_type):
        return "decimal"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    raise DataRejected(
        f"a cursor column of type {arrow_type} cannot be a high-water mark; use a numeric, "
        "text, date or timestamp column as cursor.field"
    )


def infer_kind(value: CursorValue) -> Kind:
    """The kind of a JSON mark stored without one (state files before format 2)."""
    if isinstance(value, bool):
        return "text"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if _NUMBER.match(value):
        return "decimal"
    if _instant(value) is not None:
        return "date" if len(value) == 10 else "timestamp"
    return "text"


def to_json(value: Any, *, time_sep: str = " ") -> CursorValue:
    """A Python cursor value as JSON.

    ``time_sep`` goes between date and time of timestamps: ``" "`` for SQL sources
    (``2024-05-01 10:00:00+00:00``), ``"T"`` for HTTP ones, which also write UTC as
    ``Z`` (``2024-05-01T10:00:00Z``, RFC 3339).
    """
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=time_sep)
        if time_sep == "T" and value.utcoffset() == dt.timedelta(0):
            return text.removesuffix("+00:00") + "Z"  # RFC 3339, as APIs write it
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataRejected(
            f"cursor value {value!r} of type {type(value).__name__} cannot be a high-water mark; "
            "use a numeric, text, date or timestamp column as cursor.field"
        )
    return value


def from_json(value: CursorValue, kind: Kind) -> Any:
    """A stored JSON mark as the Python value of its kind.

    Raises:
        ValueError: the value does not fit the kind.
    """
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "date":
        return dt.date.fromisoformat(str(value)[:10])
    if kind == "timestamp":
        return dt.datetime.fromisoformat(str(value))
    return str(value)


def minus_lag(value: Any, lag: float | None, kind: Kind) -> Any:
    """``value - lag`` in the cursor's units (seconds for timestamps, whole days for dates).

    Raises:
        StepUsageError: a lag on a text cursor.
    """
    if not lag:
        return value
    if kind == "int":
        return math.ceil(value - lag)  # x >= v - lag  <=>  x >= ceil(v - lag) for integers
    if kind == "float":
        return value - lag
    if kind == "decimal":
        return value - Decimal(repr(lag))
    if kind == "timestamp":
        return value - dt.timedelta(seconds=lag)
    if kind == "date":
        return value - dt.timedelta(days=math.ceil(lag / 86400))
    raise StepUsageError(
        "cursor.lag needs a numeric, date or timestamp cursor; a text cursor has no distance"
    )


def _instant(text: str) -> dt.datetime | None:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant.astimezone(dt.UTC) if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def _number(text: str) -> int | float | None:
    if not _NUMBER.match(text):
        return None
    return int(text) if _INTEGER.match(text) else float(text)


def _text_kind(text: str) -> tuple[str, Any]:
    number = _number(text)
    if number is not None:
        return ("number", number)
    instant = _instant(text)
    if instant is not None:
        return ("instant", instant)
    return ("text", text)


def comparable(array: "pa.Array", numeric_text: bool) -> "pa.Array":
    """The cursor column in a form Arrow compares as the cursor means it.

    With ``numeric_text``, a text column of numbers becomes float64 (int64 when all are
    integers) and one of ISO 8601 instants timestamp[us, UTC]; otherwise text stays text.

    Raises:
        DataRejected: values of one column mix numbers, instants and text.
    """
    import pyarrow as pa

    if not numeric_text or kind_of_type(array.type) != "text":
        return array
    kinds: set[str] = set()
    values: list[Any] = []
    for text in array.to_pylist():
        if text is None:
            values.append(None)
            continue
        what, value = _text_kind(text)
        kinds.add(what)
        values.append(value)
    if not kinds or kinds == {"text"}:
        return array
    if len(kinds) > 1:
        raise DataRejected(
            f"cursor values mix {' and '.join(sorted(kinds))} text; a cursor must be all "
            "numbers, all ISO 8601 timestamps or all text"
        )
    if kinds == {"instant"}:
        return pa.array(values, pa.timestamp("us", tz="UTC"))
    if all(isinstance(v, int) or v is None for v in values):
        return pa.array(values, pa.int64())
    return pa.array(values, pa.float64())


def python_bound(value: Any, arrow_type: "pa.DataType", what: str) -> Any:
    """A bound (config or stored value) as a Python value comparable with ``arrow_type``.

    Raises:
        DataRejected: the bound is of another kind than the column.
    """
    kind = kind_of_type(arrow_type)
    try:
        if kind == "text":
            if isinstance(value, dt.date):
                return value.isoformat()
            return str(value)
        if kind == "timestamp":
            instant = value if isinstance(value, dt.datetime) else None
            if instant is None and isinstance(value, str):
                instant = dt.datetime.fromisoformat(value)
            if instant is None:
                raise ValueError("not a timestamp")
            if arrow_type.tz is not None and instant.tzinfo is None:
                return instant.replace(tzinfo=dt.UTC)
            if arrow_type.tz is None and instant.tzinfo is not None:
                return instant.astimezone(dt.UTC).replace(tzinfo=None)
            return instant
        if kind == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(str(value))
        if isinstance(value, bool | dt.date):
            raise ValueError("not a number")
        if isinstance(value, str):
            parsed = _number(value)
            if parsed is None:
                raise ValueError("not a number")
            value = parsed
        if kind == "decimal":
            return Decimal(str(value))
        return value
    except (ValueError, TypeError, InvalidOperation):
        raise DataRejected(
            f"cursor {what} {value!r} cannot be compared with the cursor column ({arrow_type}); "
            "make the bounds the same kind as the field (number, ISO timestamp or text)"
        ) from None


def scalar(value: Any, arrow_type: "pa.DataType") -> "pa.Scalar":
    """A Python bound as an Arrow scalar of the column's type (ints compare with floats)."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type) and isinstance(value, float):
        return pa.scalar(value, pa.float64())
    if pa.types.is_decimal(arrow_type) and isinstance(value, Decimal):
        return pa.scalar(value)
    return pa.scalar(value, arrow_type)
