"""Open database connections with the driver that streams best for each job.

Extraction uses ADBC for PostgreSQL (binary COPY, Arrow batches) and SQLite, and
PyMySQL's unbuffered cursor for MariaDB/MySQL. Loading uses psycopg 3 (COPY) for
PostgreSQL, PyMySQL for MariaDB/MySQL and ADBC for SQLite. Drivers are imported
here, lazily, so a step imports only the one it uses.
"""

from pathlib import Path
from typing import Any

from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError

# Strict (bad values are errors, not warnings) and backslash escapes on, which
# steps.databases.sql.literal relies on.
MYSQL_SQL_MODE = (
    "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "NO_ENGINE_SUBSTITUTION"
)

# How long a SQLite statement waits for another connection's lock before failing.
_SQLITE_BUSY_TIMEOUT_MS = 60_000


def _unreachable(url: DatabaseUrl, err: Exception) -> StepError:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return StepError(
        f"cannot connect to {url.redacted()}: {reason}; check the URL, the password "
        "variable and that the database is reachable"
    )


def adbc_connect(url: DatabaseUrl, password: str | None) -> Any:
    """An ADBC DB-API connection (PostgreSQL or SQLite), autocommit off."""
    try:
        if url.dialect == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite_dbapi

            if not Path(url.path).parent.exists():
                raise FileNotFoundError(f"folder {Path(url.path).parent} does not exist")
            conn = sqlite_dbapi.connect(url.path)
            with conn.cursor() as cur:
                cur.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
            return conn
        import adbc_driver_postgresql.dbapi as pg_dbapi

        return pg_dbapi.connect(url.libpq_uri(password))
    except Exception as err:
        raise _unreachable(url, err) from None


def psycopg_connect(url: DatabaseUrl, password: str | None) -> Any:
    """A psycopg 3 connection to PostgreSQL, one transaction until commit."""
    import psycopg

    try:
        return psycopg.connect(url.libpq_uri(password), autocommit=False)
    except psycopg.Error as err:
        raise _unreachable(url, err) from None


def pymysql_connect(url: DatabaseUrl, password: str | None, *, streaming: bool = False) -> Any:
    """A PyMySQL connection (unbuffered cursors when ``streaming``), strict SQL mode."""
    import pymysql
    import pymysql.cursors

    try:
        return pymysql.connect(
            host=url.host,
            port=url.port,
            user=url.user or None,
            password=password or "",
            database=url.database,
            charset="utf8mb4",
            autocommit=False,
            local_infile=False,
            cursorclass=pymysql.cursors.SSCursor if streaming else pymysql.cursors.Cursor,
            init_command=f"SET SESSION sql_mode='{MYSQL_SQL_MODE}', time_zone='+00:00'",
        )
    except pymysql.Error as err:
        raise _unreachable(url, err) from None
