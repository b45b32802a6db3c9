"""PostgreSQL SQL text: double-quoted identifiers, standard string literals."""


def quote_part(part: str) -> str:
    """``part`` as a quoted identifier."""
    return '"' + part.replace('"', '""') + '"'


def escape_text(text: str) -> str:
    """``text`` for the inside of a ``'...'`` literal (standard_conforming_strings on)."""
    return text.replace("'", "''")
