"""A DuckDB connection set up the way every Ferry step uses it.

In memory, with a memory limit and a spill folder, so large inputs spill to disk
instead of growing the process; extension auto-install and auto-load are off, so a
query never reaches for the network (pods and CI have none) and fails clearly
instead; no progress bar, so step logs stay one JSON event per line.
"""

from typing import TYPE_CHECKING

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
