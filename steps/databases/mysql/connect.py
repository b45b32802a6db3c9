"""MariaDB/MySQL connections through PyMySQL, strict SQL mode, UTC session time zone.

A connection that fails is classified (:mod:`steps.databases.mysql.errors`):
access denied or an unknown database is not retried, a refused connection is.
"""

from typing import Any

from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.mysql.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError

# Strict (bad values are errors, not warnings) and backslash escapes on, which
# steps.databases.mysql.sql.escape_text relies on.
SQL_MODE = (
    "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "NO_ENGINE_SUBSTITUTION"
)


def cannot_connect(url: DatabaseUrl, err: Exception) -> StepError:
    """The step error for a connection attempt that failed with ``err``."""
    fault = classify(err, connecting=True)
    assert fault is not None
    return fault_error(fault, "connect", f"cannot connect to {url.redacted()}")


def bound_settings(server_info: str, bounds: Bounds) -> str:
    """``SET SESSION ...`` of the step's bounds for this server (MariaDB or MySQL)."""
    # whole seconds; 0 (no limit) is the server's maximum, one year
    lock = max(1, round(bounds.lock_timeout)) if bounds.lock_timeout > 0 else 31536000
    settings = [f"lock_wait_timeout = {lock}", f"innodb_lock_wait_timeout = {lock}"]
    if "mariadb" in server_info.lower():
        settings.append(f"max_statement_time = {bounds.statement_timeout:g}")
    else:  # MySQL bounds SELECTs only, in milliseconds
        settings.append(f"max_execution_time = {bounds.milliseconds('statement_timeout')}")
    return "SET SESSION " + ", ".join(settings)


def pymysql_connect(
    url: DatabaseUrl, password: str | None, bounds: Bounds, *, streaming: bool = False
) -> Any:
    """A PyMySQL connection (unbuffered cursors when ``streaming``), strict SQL mode, bounded.

    ``lock_wait_timeout`` (metadata locks: DDL, RENAME) and ``innodb_lock_wait_timeout``
    (row locks) take whole seconds.
    """
    import pymysql
    import pymysql.cursors

    try:
        conn = pymysql.connect(
            host=url.host,
            port=url.port,
            user=url.user or None,
            password=password or "",
            database=url.database,
            charset="utf8mb4",
            autocommit=False,
            local_infile=False,
            cursorclass=pymysql.cursors.SSCursor if streaming else pymysql.cursors.Cursor,
            init_command=f"SET SESSION sql_mode='{SQL_MODE}', time_zone='+00:00'",
            connect_timeout=bounds.connect_seconds(),
            # PyMySQL bounds only the TCP connect by connect_timeout; the handshake reads
            # with read_timeout, which is the connect bound until the connection is up
            read_timeout=bounds.connect_seconds(),
        )
        # then a read waits as long as a statement may run, and a minute more
        conn._read_timeout = bounds.statement_timeout + 60 if bounds.statement_timeout > 0 else None
        with conn.cursor() as cur:
            cur.execute(bound_settings(conn.get_server_info(), bounds))
        return conn
    except pymysql.Error as err:
        raise cannot_connect(url, err) from None
