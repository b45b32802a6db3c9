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


def _significant_end(query: str, hash_comments: bool) -> int:
    """The index just past the last character outside a comment (strings skipped whole)."""
    end, i, n = 0, 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "'\"`":
            close = i + 1
            while close < n:
                if query[close] == "\\" and ch == "'" and hash_comments:
                    close += 2
                    continue
                if query[close] == ch:
                    if close + 1 < n and query[close + 1] == ch:  # doubled quote
                        close += 2
                        continue
                    break
                close += 1
            i = end = min(close + 1, n)
        elif query.startswith("--", i) or (hash_comments and ch == "#"):
            newline = query.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif query.startswith("/*", i):
            close = query.find("*/", i + 2)
            i = n if close < 0 else close + 2
        else:
            if not ch.isspace():
                end = i + 1
            i += 1
    return end


def bare_query(name_of: DialectName, query: str) -> str:
    """``query`` without trailing comments, whitespace and semicolons, ready to be wrapped.

    ``SELECT ... -- note`` or ``SELECT ...;`` inside ``(...)`` or ``COPY (...)`` would
    comment out the closing parenthesis or end the statement early.
    """
    text = query
    while True:
        text = text[: _significant_end(text, hash_comments=name_of == "mysql")]
        if not text.endswith(";"):
            return text
        text = text[:-1]


def subquery(name_of: DialectName, query: str) -> str:
    """``(query)`` on lines of their own, so a comment inside cannot swallow the ``)``."""
    return f"(\n{bare_query(name_of, query)}\n)"
