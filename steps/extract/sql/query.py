"""The SELECT an extract runs: the table or query, narrowed to the cursor's window.

Bounds are spliced as escaped literals (``steps.databases.sql.literal``), not bound
parameters: PostgreSQL results stream through ``COPY (...) TO STDOUT``, which takes
no parameters. Values come from the config or the state file, never from rows.
"""

from typing import Any

from steps.databases.sql import bare_query, literal, quote_name, subquery
from steps.databases.url import Dialect


def _source(dialect: Dialect, table: str | None, query: str | None) -> str:
    if table is not None:
        return quote_name(dialect, table)
    assert query is not None
    return f"{subquery(dialect, query)} AS _ferry_source"


def build_select(
    dialect: Dialect,
    table: str | None,
    query: str | None,
    *,
    field: str | None = None,
    lower: Any = None,
    end: Any = None,
) -> str:
    """``SELECT * FROM table`` or the query; with a cursor ``field``, only its window.

    A query is wrapped on lines of its own, without its trailing comments and
    semicolons, so ``SELECT ... -- note`` and ``SELECT ...;`` work as sources.

    The window is ``field >= lower`` (inclusive) ``AND field < end``. Without either
    bound rows with a NULL cursor come too; the extract skips and counts them.
    """
    conditions = []
    if field is not None and lower is not None:
        conditions.append(f"{quote_name(dialect, field)} >= {literal(dialect, lower)}")
    if field is not None and end is not None:
        conditions.append(f"{quote_name(dialect, field)} < {literal(dialect, end)}")
    if not conditions:
        if table is not None:
            return f"SELECT * FROM {_source(dialect, table, None)}"
        assert query is not None
        return bare_query(dialect, query)
    return f"SELECT * FROM {_source(dialect, table, query)} WHERE {' AND '.join(conditions)}"


def build_null_count(dialect: Dialect, table: str | None, query: str | None, field: str) -> str:
    """``SELECT COUNT(*)`` of the rows whose cursor is NULL (skipped, but counted)."""
    column = quote_name(dialect, field)
    return (
        f"SELECT COUNT(*) AS _ferry_nulls FROM {_source(dialect, table, query)} "
        f"WHERE {column} IS NULL"
    )
