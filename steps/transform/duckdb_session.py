"""A DuckDB connection set up the way every Ferry step uses it.

In memory, with a memory limit and a spill folder, so large inputs spill to disk
instead of growing the process; extension auto-install and auto-load are off, so a
query never reaches for the network (pods and CI have none) and fails clearly
instead.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def connect(
    *, memory_limit: str, temp_directory: str, threads: int | None = None
) -> "duckdb.DuckDBPyConnection":
    """An in-memory connection held to ``memory_limit``, spilling to ``temp_directory``."""
    import duckdb

    settings: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": temp_directory,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads is not None:
        settings["threads"] = threads
    return duckdb.connect(":memory:", config=settings)


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
