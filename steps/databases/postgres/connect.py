"""PostgreSQL connections: ADBC for extracts (binary COPY), psycopg 3 for loads (COPY).

Drivers are imported here, lazily, so a step imports only the one it uses. A
connection that fails is classified (:mod:`steps.databases.postgres.errors`):
authentication or an unknown database is not retried, a refused connection is.
"""

from typing import Any
from urllib.parse import quote, urlencode

from steps.databases.errors import fault_error
from steps.databases.postgres.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError


def libpq_uri(url: DatabaseUrl, password: str | None) -> str:
    """A libpq URI with the password inside, for the driver only."""
    auth = quote(url.user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    at = f"{auth}@" if auth else ""
    query = f"?{urlencode(url.query)}" if url.query else ""
    return f"postgresql://{at}{url.host}:{url.port}/{quote(url.database, safe='')}{query}"


def cannot_connect(url: DatabaseUrl, err: Exception) -> StepError:
    """The step error for a connection attempt that failed with ``err``."""
    fault = classify(err, connecting=True)
    assert fault is not None
    return fault_error(fault, "connect", f"cannot connect to {url.redacted()}")


def adbc_connect(url: DatabaseUrl, password: str | None) -> Any:
    """An ADBC DB-API connection, autocommit off."""
    import adbc_driver_postgresql.dbapi as pg_dbapi

    try:
        return pg_dbapi.connect(libpq_uri(url, password))
    except Exception as err:
        raise cannot_connect(url, err) from None


def psycopg_connect(url: DatabaseUrl, password: str | None) -> Any:
    """A psycopg 3 connection, one transaction until commit."""
    import psycopg

    try:
        return psycopg.connect(libpq_uri(url, password), autocommit=False)
    except psycopg.Error as err:
        raise cannot_connect(url, err) from None
