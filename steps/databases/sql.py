"""SQL text in any dialect: quoted names and literal values.

Values that end up in SQL text (high-water marks) are rendered as literals rather
than bound parameters because PostgreSQL only streams (COPY) an unparameterised
query; the quoting here (with each dialect's ``sql.py`` for its own escapes) is the
one place that makes that safe.
"""

import datetime as dt
from decimal import Decimal

from steps.databases.registry import DialectName, dialect

Literal = str | int | float | Decimal | dt.date | dt.datetime | None


def quote_name(name_of: DialectName, name: str) -> str:
    """A quoted identifier; ``schema.table`` is quoted part by part."""
    quote = dialect(name_of).quote_part
    return ".".join(quote(part) for part in name.split("."))


def literal(name_of: DialectName, value: Literal) -> str:
    """``value`` as a SQL literal of the dialect ``name_of``."""
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
    return f"'{dialect(name_of).escape_text(text)}'"
