"""The SELECT an extract runs: the table or query, narrowed to the cursor's window."""

from dataclasses import dataclass

from steps.databases.sql import Literal, literal, quote_name
from steps.databases.url import Dialect


@dataclass(frozen=True)
class Window:
    """Bounds on the cursor field: ``> after`` or ``>= start``, and ``< end``."""

    field: str
    after: Literal = None
    start: Literal = None
    end: Literal = None

    def describe(self) -> dict[str, Literal]:
        """The bounds for the log."""
        return {"after": self.after, "start": self.start, "end": self.end}


def build_select(
    dialect: Dialect, table: str | None, query: str | None, window: Window | None
) -> str:
    """``SELECT * FROM table`` or the query, wrapped as a subquery when a window applies."""
    if table is not None:
        source = quote_name(dialect, table)
    else:
        assert query is not None
        if window is None:
            return query
        source = f"({query.strip().rstrip(';')}) AS _ferry_source"
    sql = f"SELECT * FROM {source}"
    if window is None:
        return sql
    column = quote_name(dialect, window.field)
    conditions = []
    if window.after is not None:
        conditions.append(f"{column} > {literal(dialect, window.after)}")
    elif window.start is not None:
        conditions.append(f"{column} >= {literal(dialect, window.start)}")
    if window.end is not None:
        conditions.append(f"{column} < {literal(dialect, window.end)}")
    return f"{sql} WHERE {' AND '.join(conditions)}" if conditions else sql
