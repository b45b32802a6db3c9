"""MariaDB/MySQL SQL text: backquoted identifiers, backslash-escaping string literals.

Connections run with backslash escapes on (the session sql_mode of
:mod:`steps.databases.mysql.connect` leaves out NO_BACKSLASH_ESCAPES), which the
literal escaping here relies on.
"""


def quote_part(part: str) -> str:
    """``part`` as a quoted identifier."""
    return "`" + part.replace("`", "``") + "`"


def escape_text(text: str) -> str:
    """``text`` for the inside of a ``'...'`` literal."""
    return text.replace("'", "''").replace("\\", "\\\\")
