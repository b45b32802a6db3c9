"""SQL text per dialect: quoted names and literal values.

Values that end up in SQL text (high-water marks) are rendered as literals rather
than bound parameters because PostgreSQL only streams (COPY) an unparameterised
query; the quoting here is the one place that makes that safe.
"""

import datetime as dt
from decimal import Decimal

from steps.databases.url import Dialect

Literal = str | int | float | Decimal | dt.date | dt.datetime | None


def quote_name(dialect: Dialect, name: str) -> str:
    """A quoted identifier; ``schema.table`` is quoted part by part."""
    return ".".join(_quote_part(dialect, part) for part in name.split("."))


def _quote_part(dialect: Dialect, part: str) -> str:
    if dialect == "mysql":
        return "`" + part.replace("`", "``") + "`"
    return '"' + part.replace('"', '""') + '"'


def literal(dialect: Dialect, value: Literal) -> str:
    """``value`` as a SQL literal of ``dialect``."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    if "\x00" in text:
        raise ValueError("a SQL literal cannot contain a NUL character")
    text = text.replace("'", "''")
    if dialect == "mysql":
        text = text.replace("\\", "\\\\")
    return f"'{text}'"
