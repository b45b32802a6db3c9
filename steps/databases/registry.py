"""The SQL dialects Ferry speaks, keyed by URL scheme.

Each dialect lives in a folder of its own (``steps/databases/<dialect>/``) with the
same file roles: ``dialect.py`` (the entry this registry hands out), ``connect.py``,
``sql.py`` (quoting), ``types.py``, ``errors.py`` (driver errors classified),
``extract.py`` and ``load_target.py``. Generic code (URL parsing, the extract and
load steps) asks the dialect instead of branching on its name.

The table below is plain data so that parsing a URL (at ``ferry render``) imports no
dialect code and no driver; :func:`dialect` imports the dialect's package on first use.
"""

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from steps.databases.dialect import SqlDialect

DialectName = Literal["postgresql", "mysql", "sqlite"]


@dataclass(frozen=True)
class DialectInfo:
    """What URL parsing needs to know about a dialect, without importing it."""

    name: DialectName
    package: str
    schemes: tuple[str, ...]
    default_port: int | None
    """None for a file database (the URL is a path)."""
    takes_options: bool
    """Whether the URL may carry ``?options`` (passed to the driver)."""
    url_form: str


DIALECTS: dict[DialectName, DialectInfo] = {
    "postgresql": DialectInfo(
        name="postgresql",
        package="steps.databases.postgres",
        schemes=("postgresql", "postgres"),
        default_port=5432,
        takes_options=True,
        url_form="postgresql://user@host:port/db",
    ),
    "mysql": DialectInfo(
        name="mysql",
        package="steps.databases.mysql",
        schemes=("mysql", "mariadb"),
        default_port=3306,
        takes_options=False,
        url_form="mysql://user@host:port/db",
    ),
    "sqlite": DialectInfo(
        name="sqlite",
        package="steps.databases.sqlite",
        schemes=("sqlite",),
        default_port=None,
        takes_options=False,
        url_form="sqlite:///path/file.db",
    ),
}

SCHEMES: dict[str, DialectInfo] = {
    scheme: info for info in DIALECTS.values() for scheme in info.schemes
}


def dialect(name: DialectName) -> "SqlDialect":
    """The dialect called ``name`` (its package is imported on first use)."""
    module = importlib.import_module(f"{DIALECTS[name].package}.dialect")
    found: SqlDialect = module.DIALECT
    return found
