"""A DuckDB connection set up the way every Ferry step uses it.

In memory, with a memory limit and a spill folder, so large inputs spill to disk
instead of growing the process; extension auto-install and auto-load are off, so a
query never reaches for the network (pods and CI have none) and fails clearly
instead; no progress bar, so step logs stay one JSON event per line.
"""

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def connect(
    *,
    memory_limit: str,
    temp_directory: str,
    threads: int | None = None,
    preserve_insertion_order: bool = True,
) -> "duckdb.DuckDBPyConnection":
    """An in-memory connection held to ``memory_limit``, spilling to ``temp_directory``.

    ``preserve_insertion_order=False`` lets DuckDB drop row order where the SQL does
    not ask for one, which saves memory on large intermediate results.
    """
    import duckdb

    settings: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": temp_directory,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "preserve_insertion_order": preserve_insertion_order,
    }
    if threads is not None:
        settings["threads"] = threads
    con = duckdb.connect(":memory:", config=settings)
    con.execute("SET enable_progress_bar = false")  # a session option, not a config one
    return con


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a DuckDB string literal: single-quoted, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def one_line(err: Exception) -> str:
    """DuckDB's message on one line, without the ``LINE n:`` excerpt that follows it."""
    head = str(err).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in head.splitlines() if line.strip())


def parse_tree(con: "duckdb.DuckDBPyConnection", sql: str) -> dict[str, Any] | None:
    """DuckDB's own parse tree of ``sql`` (``json_serialize_sql``), or None if it has none.

    Reading the tree, rather than matching SQL text, is how a step asks what a query
    does (an ORDER BY on top, a window function inside) without being fooled by
    comments, quoting or names.
    """
    rows = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()
    tree: dict[str, Any] = json.loads(rows[0][0])
    return None if tree.get("error") else tree
