"""SQLite connections through ADBC, with a bounded wait for another writer's lock.

A database whose folder does not exist (yet: a volume not mounted) fails as
retryable, like an unreachable server.
"""

from pathlib import Path
from typing import Any

from steps.databases.errors import DatabaseFault, fault_error, one_line
from steps.databases.sqlite.errors import classify
from steps.databases.url import DatabaseUrl

# How long a SQLite statement waits for another connection's lock before failing.
_BUSY_TIMEOUT_MS = 60_000


def adbc_connect(url: DatabaseUrl, password: str | None) -> Any:
    """An ADBC DB-API connection, autocommit off (SQLite has no password)."""
    import adbc_driver_sqlite.dbapi as sqlite_dbapi

    try:
        folder = Path(url.path).parent
        if not folder.exists():
            raise FileNotFoundError(f"folder {folder} does not exist")
        conn = sqlite_dbapi.connect(url.path)
        with conn.cursor() as cur:
            cur.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        return conn
    except Exception as err:
        fault = classify(err) or DatabaseFault("transient", one_line(str(err)))
        raise fault_error(fault, "connect", f"cannot connect to {url.redacted()}") from None
