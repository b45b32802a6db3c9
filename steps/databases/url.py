"""Database connection URLs: which dialect, where, and never a password.

A pipeline names a database by a URL without a password; the password comes from an
environment variable (a Kubernetes Secret in the cluster), so it never appears in a
rendered manifest, a log line or an error message.
"""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

Dialect = Literal["postgresql", "mysql", "sqlite"]

_SCHEMES: dict[str, Dialect] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
_DEFAULT_PORTS: dict[Dialect, int] = {"postgresql": 5432, "mysql": 3306}

URL_FORMS = "postgresql://user@host:port/db, mysql://user@host:port/db or sqlite:///path/file.db"


class DatabaseUrlError(ValueError):
    """The URL is not one Ferry can connect with; the message says how to write it."""


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed connection URL (without password)."""

    dialect: Dialect
    host: str = ""
    port: int = 0
    user: str = ""
    database: str = ""
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()

    def redacted(self) -> str:
        """The URL as shown in logs and errors (it never holds a password)."""
        if self.dialect == "sqlite":
            return f"sqlite://{self.path}"
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{self.dialect}://{user}{self.host}:{self.port}/{self.database}{query}"

    def libpq_uri(self, password: str | None) -> str:
        """A libpq URI (PostgreSQL) with the password inside, for the driver only."""
        auth = quote(self.user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        at = f"{auth}@" if auth else ""
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"postgresql://{at}{self.host}:{self.port}/{quote(self.database, safe='')}{query}"


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``url``; raise :class:`DatabaseUrlError` saying what is wrong."""
    scheme, sep, rest = url.partition("://")
    dialect = _SCHEMES.get(scheme.lower()) if sep else None
    if dialect is None:
        raise DatabaseUrlError(f"unsupported database URL scheme in {scheme!r}; use {URL_FORMS}")
    if dialect == "sqlite":
        if not rest or "?" in rest:
            raise DatabaseUrlError(f"sqlite URL needs a file path and no options; use {URL_FORMS}")
        return DatabaseUrl(dialect="sqlite", path=rest)
    parts = urlsplit(url)
    if parts.password is not None:
        raise DatabaseUrlError(
            "the database URL contains a password; remove it and name the environment "
            "variable that holds it in password_env"
        )
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database:
        raise DatabaseUrlError(f"database URL needs a host and a database name; use {URL_FORMS}")
    try:
        port = parts.port or _DEFAULT_PORTS[dialect]
    except ValueError as err:
        raise DatabaseUrlError(f"database URL has a bad port: {err}") from None
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    if dialect == "mysql" and query:
        raise DatabaseUrlError("mysql URLs take no ?options; use mysql://user@host:port/db")
    return DatabaseUrl(
        dialect=dialect,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        database=database,
        query=query,
    )
