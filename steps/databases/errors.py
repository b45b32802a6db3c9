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
from typing import TYPE_CHECKING, Literal

from steps.runtime.errors import DataRejected, StepError, StepUsageError

if TYPE_CHECKING:
    from steps.databases.bounds import Bounds

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
    setting: str | None = None
    """The bound that ran out (``lock_timeout``, ``statement_timeout``), when one did."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())


def fault_error(
    fault: DatabaseFault, action: Action, what: str, bounds: "Bounds | None" = None
) -> StepError:
    """The one-line step error for ``fault`` while doing ``what`` (e.g. ``query on URL``).

    A fault that is a bound running out names the setting and its value.
    """
    verb = "" if action == "connect" else " failed"
    waited = ""
    if fault.setting is not None:
        value = f" {bounds.describe(fault.setting)}" if bounds is not None else ""
        waited = (
            f"; waited longer than{value or ' ' + fault.setting} (step config "
            f"{fault.setting!r}; another session may hold a lock on it)"
            if fault.setting == "lock_timeout"
            else f"; ran longer than{value or ' ' + fault.setting} (step config {fault.setting!r})"
        )
    return _ERRORS[fault.kind](
        f"{what}{verb}: {fault.reason}{waited}; {_ADVICE[action, fault.kind]}"
    )


class UnportableValue(DataRejected):
    """A value read from a source that no portable Arrow type holds as it is.

    PostgreSQL ``infinity`` timestamps, ``NaN`` numerics, MariaDB zero dates, a BIGINT
    UNSIGNED beyond int64: the extract stops (exit 3) rather than alter the value.
    The extract step puts the table or query in front of the message.
    """

    def __init__(self, column: str, row: int, value: object, why: str, fix: str) -> None:
        self.column = column
        self.row = row
        self.value = value
        super().__init__(f"column {column!r}, row {row}: {value!r} {why}; {fix}")
