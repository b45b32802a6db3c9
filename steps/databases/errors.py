"""Database failures as step errors: terminal ones are not retried, transient ones are.

Each dialect's ``errors.py`` maps a driver exception to a :class:`DatabaseFault`
(by SQLSTATE for PostgreSQL, by error number for MariaDB/MySQL, by ADBC status for
SQLite); this module turns the fault into the step error whose exit code the
rendered ``retryStrategy`` acts on:

- ``usage`` (exit 2, not retried): authentication, permissions, unknown database,
  missing table or column, SQL syntax: the config or the database objects are wrong.
- ``data`` (exit 3, not retried): a constraint violation (unique, not null, check,
  foreign key), a value out of range or not valid for its type, division by zero:
  the same rows fail the same way again.
- ``transient`` (exit 1, retried): connection refused, lost or reset, server
  shutdown, deadlock, serialization failure, lock or statement timeout, too many
  connections. A driver error no rule matches is transient too, as before.
"""

from dataclasses import dataclass
from typing import Literal

from steps.runtime.errors import DataRejected, StepError, StepUsageError

FaultKind = Literal["usage", "data", "transient"]
Action = Literal["connect", "query", "load"]

_ERRORS: dict[FaultKind, type[StepError]] = {
    "usage": StepUsageError,
    "data": DataRejected,
    "transient": StepError,
}

_ADVICE: dict[tuple[Action, FaultKind], str] = {
    ("connect", "usage"): "check the URL (user, database), the password variable and the "
    "user's privileges; not retried",
    ("connect", "data"): "check the URL and the connection options; not retried",
    ("connect", "transient"): "check that the database is reachable; the step is retried",
    ("query", "usage"): "check the table or query; not retried",
    ("query", "data"): "fix the query or the rows it reads; not retried",
    ("query", "transient"): "nothing was written; the step is retried",
    ("load", "usage"): "fix the table, its columns or the user's privileges; nothing was "
    "committed, not retried",
    ("load", "data"): "fix the rows upstream or the table's constraints; nothing was "
    "committed, not retried",
    ("load", "transient"): "nothing was committed; the step is retried",
}


class BadValueError(DataRejected):
    """A value does not fit its column; nothing of the load is committed."""


@dataclass(frozen=True)
class DatabaseFault:
    """A driver exception, classified."""

    kind: FaultKind
    reason: str
    """The driver's message on one line, with its code (SQLSTATE, error number)."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())


def fault_error(fault: DatabaseFault, action: Action, what: str) -> StepError:
    """The one-line step error for ``fault`` while doing ``what`` (e.g. ``query on URL``)."""
    verb = "" if action == "connect" else " failed"
    return _ERRORS[fault.kind](f"{what}{verb}: {fault.reason}; {_ADVICE[action, fault.kind]}")
