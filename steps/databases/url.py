"""Database connection URLs: which dialect, where, and never a password.

A pipeline names a database by a URL without a password; the password comes from an
environment variable (a Kubernetes Secret in the cluster), so it never appears in a
rendered manifest, a log line or an error message. Schemes, default ports and which
URLs take ``?options`` come from the dialect registry.
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from steps.databases.registry import DIALECTS, SCHEMES, DialectName

Dialect = DialectName

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
        if DIALECTS[self.dialect].default_port is None:
            return f"{self.dialect}://{self.path}"
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{self.dialect}://{user}{self.host}:{self.port}/{self.database}{query}"


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``url``; raise :class:`DatabaseUrlError` saying what is wrong."""
    scheme, sep, rest = url.partition("://")
    info = SCHEMES.get(scheme.lower()) if sep else None
    if info is None:
        raise DatabaseUrlError(f"unsupported database URL scheme in {scheme!r}; use {URL_FORMS}")
    if info.default_port is None:
        if not rest or "?" in rest:
            raise DatabaseUrlError(
                f"{info.name} URL needs a file path and no options; use {URL_FORMS}"
            )
        return DatabaseUrl(dialect=info.name, path=rest)
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
        port = parts.port or info.default_port
    except ValueError as err:
        raise DatabaseUrlError(f"database URL has a bad port: {err}") from None
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    if query and not info.takes_options:
        raise DatabaseUrlError(f"{info.name} URLs take no ?options; use {info.url_form}")
    return DatabaseUrl(
        dialect=info.name,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        database=database,
        query=query,
    )
