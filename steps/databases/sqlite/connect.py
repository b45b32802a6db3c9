"""SQLite connections through ADBC, with a bounded wait for another writer's lock.

A database whose folder does not exist (yet: a volume not mounted) fails as
retryable, like an unreachable server.
"""

from pathlib import Path
from typing import Any

from steps.databases.bounds import Bounds
from steps.databases.errors import DatabaseFault, fault_error, one_line
from steps.databases.sqlite.errors import classify
from steps.databases.url import DatabaseUrl

# busy_timeout 0 would not wait at all; lock_timeout 0 means no limit (24 days here)
_BUSY_FOREVER_MS = 2**31 - 1


def adbc_connect(url: DatabaseUrl, password: str | None, bounds: Bounds) -> Any:
    """An ADBC DB-API connection, autocommit off (SQLite has no password).

    A statement waits up to ``lock_timeout`` for another connection's lock.
    """
    import adbc_driver_sqlite.dbapi as sqlite_dbapi

    try:
        folder = Path(url.path).parent
        if not folder.exists():
            raise FileNotFoundError(f"folder {folder} does not exist")
        conn = sqlite_dbapi.connect(url.path)
        with conn.cursor() as cur:
            busy = bounds.milliseconds("lock_timeout") or _BUSY_FOREVER_MS
            cur.execute(f"PRAGMA busy_timeout = {busy}")
        return conn
    except Exception as err:
        fault = classify(err) or DatabaseFault("transient", one_line(str(err)))
        raise fault_error(fault, "connect", f"cannot connect to {url.redacted()}") from None
