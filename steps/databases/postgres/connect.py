"""PostgreSQL connections: ADBC for extracts (binary COPY), psycopg 3 for loads (COPY).

Drivers are imported here, lazily, so a step imports only the one it uses. A
connection that fails is classified (:mod:`steps.databases.postgres.errors`):
authentication or an unknown database is not retried, a refused connection is.
"""

import re
from typing import Any
from urllib.parse import quote, urlencode

from steps.databases.bounds import Bounds
from steps.databases.errors import fault_error
from steps.databases.postgres.errors import classify
from steps.databases.url import DatabaseUrl
from steps.runtime.errors import StepError

_BOUND_SETTINGS = ("lock_timeout", "statement_timeout")


def session_settings(url: DatabaseUrl, bounds: Bounds) -> list[str]:
    """``SET`` statements for the step's bounds that the URL's ``options`` do not set.

    Sent once connected rather than as startup ``options``, which connection poolers
    such as PgBouncer refuse; a ``-c lock_timeout=...`` in the URL wins.
    """
    given = " ".join(v for k, v in url.query if k == "options")
    return [
        f"SET {name} = {bounds.milliseconds(name)}"
        for name in _BOUND_SETTINGS
        if not re.search(rf"(?:^|\s)-c\s*{name}=", given)
    ]


def connection_params(url: DatabaseUrl, bounds: Bounds | None) -> list[tuple[str, str]]:
    """The URL's libpq parameters, with ``connect_timeout`` unless the URL has its own."""
    params = list(url.query)
    if bounds is not None and not any(k == "connect_timeout" for k, _ in params):
        params.append(("connect_timeout", str(bounds.connect_seconds())))
    return params


def libpq_uri(url: DatabaseUrl, password: str | None, bounds: Bounds | None = None) -> str:
    """A libpq URI with the password and the connect bound inside, for the driver only."""
    auth = quote(url.user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    at = f"{auth}@" if auth else ""
    params = connection_params(url, bounds)
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
        conn = pg_dbapi.connect(libpq_uri(url, password, bounds))
    except Exception as err:
        raise cannot_connect(url, err) from None
    try:
        with conn.cursor() as cur:
            for statement in session_settings(url, bounds):
                cur.execute(statement)
    except Exception as err:
        conn.close()
        raise cannot_connect(url, err) from None
    return conn


def psycopg_connect(url: DatabaseUrl, password: str | None, bounds: Bounds) -> Any:
    """A psycopg 3 connection, one transaction until commit."""
    import psycopg

    try:
        conn = psycopg.connect(libpq_uri(url, password, bounds), autocommit=False)
    except psycopg.Error as err:
        raise cannot_connect(url, err) from None
    try:
        for statement in session_settings(url, bounds):
            conn.execute(statement)
        conn.commit()  # a SET in a transaction that rolls back would be undone
    except psycopg.Error as err:
        conn.close()
        raise cannot_connect(url, err) from None
    return conn
