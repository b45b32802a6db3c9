"""How long a SQL step waits: to connect, for another session's lock, for one statement.

Every SQL step sets these on its connections, so a table locked by another session
fails the step within ``lock_timeout`` (exit 1, retried) instead of blocking it
forever. Each dialect maps them to its own settings:

- ``connect_timeout``: libpq ``connect_timeout``; PyMySQL ``connect_timeout``.
- ``lock_timeout``: PostgreSQL ``lock_timeout``; MariaDB/MySQL ``lock_wait_timeout``
  (metadata locks) and ``innodb_lock_wait_timeout`` (row locks); SQLite ``busy_timeout``.
- ``statement_timeout``: PostgreSQL ``statement_timeout``; MariaDB ``max_statement_time``;
  MySQL ``max_execution_time`` (SELECTs only); not on SQLite.
"""

import math
from dataclasses import dataclass

DEFAULT_CONNECT_TIMEOUT = 30.0
DEFAULT_LOCK_TIMEOUT = 60.0
DEFAULT_STATEMENT_TIMEOUT = 6 * 3600.0


@dataclass(frozen=True)
class Bounds:
    """Seconds; a ``statement_timeout`` of 0 means no limit."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT

    def connect_seconds(self) -> int:
        """Whole seconds for drivers that take no fraction (at least 1)."""
        return max(1, math.ceil(self.connect_timeout))

    def milliseconds(self, setting: str) -> int:
        """``setting`` (``lock_timeout`` or ``statement_timeout``) in whole milliseconds."""
        seconds: float = getattr(self, setting)
        return max(1, round(seconds * 1000)) if seconds > 0 else 0

    def describe(self, setting: str) -> str:
        """``setting=N s`` as the step error names it."""
        seconds: float = getattr(self, setting)
        return f"{setting}={seconds:g}s" if seconds > 0 else f"{setting}=0 (no limit)"
