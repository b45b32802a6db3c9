"""PostgreSQL connections: ADBC for extracts (binary COPY), psycopg 3 for loads (COPY).

Drivers are imported here, lazily, so a step imports only the one it uses. A
connection that fails is classified (:mod:`steps.databases.postgres.errors`):
authentication or an unknown database is not retried, a refused connection is.
"""

from typing import Any
from urllib.parse import quote, urlencode

from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.postgres.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError


def session_options(url: DatabaseUrl, bounds: Bounds) -> list[tuple[str, str]]:
    """The URL's libpq options with the step's bounds in front (the URL's own win).

    ``lock_timeout`` and ``statement_timeout`` go into ``options`` as ``-c`` settings,
    ``connect_timeout`` is libpq's own parameter; a URL that sets any of them keeps it.
    """
    settings = " ".join(
        f"-c {name}={bounds.milliseconds(name)}" for name in ("lock_timeout", "statement_timeout")
    )
    query = [(k, v) for k, v in url.query if k != "options"]
    given = " ".join(v for k, v in url.query if k == "options")
    query.append(("options", f"{settings} {given}".strip()))
    if not any(k == "connect_timeout" for k, _ in url.query):
        query.append(("connect_timeout", str(bounds.connect_seconds())))
    return query


def libpq_uri(url: DatabaseUrl, password: str | None, bounds: Bounds | None = None) -> str:
    """A libpq URI with the password and the step's bounds inside, for the driver only."""
    auth = quote(url.user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    at = f"{auth}@" if auth else ""
    params = session_options(url, bounds) if bounds is not None else list(url.query)
    query = f"?{urlencode(params, quote_via=quote)}" if params else ""
    return f"postgresql://{at}{url.host}:{url.port}/{quote(url.database, safe='')}{query}"


def cannot_connect(url: DatabaseUrl, err: Exception) -> StepError:
    """The step error for a connection attempt that failed with ``err``."""
    fault = classify(err, connecting=True)
    assert fault is not None
    return fault_error(fault, "connect", f"cannot connect to {url.redacted()}")


def adbc_connect(url: DatabaseUrl, password: str | None, bounds: Bounds) -> Any:
    """An ADBC DB-API connection, autocommit off."""
    import adbc_driver_postgresql.dbapi as pg_dbapi

    try:
        return pg_dbapi.connect(libpq_uri(url, password, bounds))
    except Exception as err:
        raise cannot_connect(url, err) from None


def psycopg_connect(url: DatabaseUrl, password: str | None, bounds: Bounds) -> Any:
    """A psycopg 3 connection, one transaction until commit."""
    import psycopg

    try:
        return psycopg.connect(libpq_uri(url, password, bounds), autocommit=False)
    except psycopg.Error as err:
        raise cannot_connect(url, err) from None
