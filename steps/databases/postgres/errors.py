"""PostgreSQL driver errors (psycopg 3 and ADBC) classified by SQLSTATE.

Both drivers carry the server's SQLSTATE (``err.sqlstate``). A failed connection
has none (libpq reports it as text), so its message decides: a refused or dropped
connection is transient, an unknown role, a bad password or an unknown database
is not. https://www.postgresql.org/docs/current/errcodes-appendix.html
"""

import re

from steps.databases.errors import DatabaseFault, FaultKind, one_line

# Exact codes first, then the two-character class.
_TRANSIENT_CODES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available (lock_timeout, NOWAIT)
    "57014",  # query_canceled (statement_timeout)
    "57P01",  # admin_shutdown (pg_terminate_backend, server stop)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up)
    "57P05",  # idle_session_timeout
    "53300",  # too_many_connections
}
# The codes of a bound running out, and the step setting it comes from.
_BOUNDS = {"55P03": "lock_timeout", "57014": "statement_timeout"}
_USAGE_CODES = {
    "3D000",  # invalid_catalog_name (unknown database)
    "3F000",  # invalid_schema_name
    "0A000",  # feature_not_supported
    "42P01",  # undefined_table (class 42, named for the record)
}
_CLASSES: dict[str, FaultKind] = {
    "08": "transient",  # connection exception
    "53": "transient",  # insufficient resources (disk full, out of memory)
    "58": "transient",  # system error (I/O)
    "28": "usage",  # invalid authorization specification
    "42": "usage",  # syntax error or access rule violation (missing table/column, privileges)
    "22": "data",  # data exception (out of range, invalid text, division by zero)
    "23": "data",  # integrity constraint violation
}

# libpq's connection messages (no SQLSTATE): what means "fix the config".
_CONNECT_USAGE = re.compile(
    r"password authentication failed|role \S+ does not exist|database \S+ does not exist"
    r"|no pg_hba\.conf entry|permission denied|authentication failed"
    r"|invalid (?:connection option|URI|integer value|sslmode)",
    re.IGNORECASE,
)


def _sqlstate(err: BaseException) -> str | None:
    code = getattr(err, "sqlstate", None)
    return code if isinstance(code, str) and len(code) == 5 else None


def _names(err: BaseException) -> str:
    """The table, column and constraint the server names (psycopg diag or ADBC details)."""
    found: dict[str, str] = {}
    diag = getattr(err, "diag", None)
    if diag is not None:
        for label, attr in (
            ("table", "table_name"),
            ("column", "column_name"),
            ("constraint", "constraint_name"),
        ):
            if value := getattr(diag, attr, None):
                found[label] = str(value)
    for key, raw in getattr(err, "details", None) or []:
        name = {
            b"PG_DIAG_TABLE_NAME": "table",
            b"PG_DIAG_COLUMN_NAME": "column",
            b"PG_DIAG_CONSTRAINT_NAME": "constraint",
        }.get(key if isinstance(key, bytes) else str(key).encode())
        if name and raw:
            found[name] = raw.decode() if isinstance(raw, bytes) else str(raw)
    return "".join(f", {label} {value!r}" for label, value in found.items())


def _kind_of_code(code: str) -> FaultKind:
    if code in _TRANSIENT_CODES:
        return "transient"
    if code in _USAGE_CODES:
        return "usage"
    return _CLASSES.get(code[:2], "transient")


def _driver_error(err: BaseException) -> bool:
    module = type(err).__module__
    return module.startswith(("psycopg", "adbc_driver_manager", "adbc_driver_postgresql"))


def classify(err: BaseException, *, connecting: bool = False) -> DatabaseFault | None:
    """The fault ``err`` stands for; None when it is not a PostgreSQL driver error.

    ``connecting``: the error came from opening the connection (any exception then
    counts, and a message without SQLSTATE is read for authentication failures).
    """
    if not connecting and not _driver_error(err):
        return None
    message = one_line(str(err)) or type(err).__name__
    code = _sqlstate(err)
    if code is None:
        if connecting and _CONNECT_USAGE.search(message):
            return DatabaseFault("usage", message)
        return DatabaseFault(_fallback(err), message)
    kind = _kind_of_code(code)
    names = _names(err) if kind == "data" else ""
    setting = _BOUNDS.get(code)
    if f"SQLSTATE: {code}" in message:  # ADBC appends it already
        return DatabaseFault(kind, f"{message.removesuffix('.')}{names}", setting)
    return DatabaseFault(kind, f"{message} (SQLSTATE {code}{names})", setting)


def _fallback(err: BaseException) -> FaultKind:
    """Without a SQLSTATE: the DB-API class decides; anything else may pass on a retry."""
    names = {cls.__name__ for cls in type(err).__mro__}
    if names & {"IntegrityError", "DataError"}:
        return "data"
    if names & {"ProgrammingError", "NotSupportedError"}:
        return "usage"
    return "transient"


# A failure while ADBC streams COPY rows surfaces as an OSError carrying libpq's
# message, without SQLSTATE: the message says which bound ran out or what was wrong.
_STREAMED: tuple[tuple[re.Pattern[str], FaultKind, str | None], ...] = (
    (re.compile(r"statement timeout", re.IGNORECASE), "transient", "statement_timeout"),
    (re.compile(r"lock timeout", re.IGNORECASE), "transient", "lock_timeout"),
    (
        re.compile(r"division by zero|out of range|invalid input syntax", re.IGNORECASE),
        "data",
        None,
    ),
)


def classify_streamed(err: OSError) -> DatabaseFault:
    """The fault of an error raised while reading the streamed result (no SQLSTATE)."""
    message = one_line(str(err)) or type(err).__name__
    for pattern, kind, setting in _STREAMED:
        if pattern.search(message):
            return DatabaseFault(kind, message, setting)
    return DatabaseFault("transient", message)
