"""MariaDB/MySQL driver errors (PyMySQL) classified by error number.

PyMySQL raises its errors with ``args == (errno, message)``: server errors
(1xxx, 3xxx, 4xxx) and client errors (2xxx: no connection, connection lost).
https://mariadb.com/kb/en/mariadb-error-code-reference/
"""

from steps.databases.errors import DatabaseFault, FaultKind, one_line

_USAGE = {
    1044,  # ER_DBACCESS_DENIED_ERROR
    1045,  # ER_ACCESS_DENIED_ERROR (user or password)
    1049,  # ER_BAD_DB_ERROR (unknown database)
    1051,  # ER_BAD_TABLE_ERROR
    1054,  # ER_BAD_FIELD_ERROR (unknown column)
    1064,  # ER_PARSE_ERROR (syntax)
    1109,  # ER_UNKNOWN_TABLE
    1142,  # ER_TABLEACCESS_DENIED_ERROR
    1143,  # ER_COLUMNACCESS_DENIED_ERROR
    1146,  # ER_NO_SUCH_TABLE
    1149,  # ER_SYNTAX_ERROR
    1227,  # ER_SPECIFIC_ACCESS_DENIED_ERROR
    1305,  # ER_SP_DOES_NOT_EXIST (unknown function)
    1698,  # ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    1820,  # ER_MUST_CHANGE_PASSWORD
}
_DATA = {
    1048,  # ER_BAD_NULL_ERROR (column cannot be null)
    1062,  # ER_DUP_ENTRY (unique key)
    1169,  # ER_DUP_UNIQUE
    1216,  # ER_NO_REFERENCED_ROW
    1217,  # ER_ROW_IS_REFERENCED
    1264,  # ER_WARN_DATA_OUT_OF_RANGE
    1265,  # WARN_DATA_TRUNCATED
    1292,  # ER_TRUNCATED_WRONG_VALUE (bad date/time/number text)
    1365,  # ER_DIVISION_BY_ZERO
    1366,  # ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (incorrect value for the type)
    1367,  # ER_ILLEGAL_VALUE_FOR_TYPE
    1406,  # ER_DATA_TOO_LONG
    1451,  # ER_ROW_IS_REFERENCED_2 (foreign key, parent side)
    1452,  # ER_NO_REFERENCED_ROW_2 (foreign key)
    1690,  # ER_DATA_OUT_OF_RANGE (BIGINT value out of range)
    3140,  # ER_INVALID_JSON_TEXT (MySQL)
    3819,  # ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    4025,  # ER_CONSTRAINT_FAILED (MariaDB CHECK)
}
_TRANSIENT = {
    1040,  # ER_CON_COUNT_ERROR (too many connections)
    1053,  # ER_SERVER_SHUTDOWN
    1205,  # ER_LOCK_WAIT_TIMEOUT
    1213,  # ER_LOCK_DEADLOCK
    1317,  # ER_QUERY_INTERRUPTED
    1927,  # ER_CONNECTION_KILLED (MariaDB)
    1969,  # ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    3024,  # ER_QUERY_TIMEOUT (MySQL max_execution_time)
    2002,  # CR_CONNECTION_ERROR (socket)
    2003,  # CR_CONN_HOST_ERROR (connection refused)
    2005,  # CR_UNKNOWN_HOST
    2006,  # CR_SERVER_GONE_ERROR
    2013,  # CR_SERVER_LOST
    2014,  # CR_COMMANDS_OUT_OF_SYNC
}

# The numbers of a bound running out, and the step setting it comes from.
_BOUNDS = {1205: "lock_timeout", 1969: "statement_timeout", 3024: "statement_timeout"}


def error_number(err: BaseException) -> int | None:
    """The MariaDB/MySQL error number of ``err``, when it has one."""
    args: tuple[object, ...] = getattr(err, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def message(err: BaseException) -> str:
    """The server's message without the error number."""
    args: tuple[object, ...] = getattr(err, "args", ())
    text = str(args[1]) if len(args) > 1 else str(err)
    return one_line(text) or type(err).__name__


def classify(err: BaseException, *, connecting: bool = False) -> DatabaseFault | None:
    """The fault ``err`` stands for; None when it is not a PyMySQL error.

    ``connecting``: the error came from opening the connection (any exception counts).
    """
    import pymysql

    if not connecting and not isinstance(err, pymysql.Error):
        return None
    number = error_number(err)
    kind: FaultKind
    if number in _USAGE:
        kind = "usage"
    elif number in _DATA:
        kind = "data"
    elif number in _TRANSIENT:
        kind = "transient"
    elif isinstance(err, pymysql.IntegrityError | pymysql.DataError):
        kind = "data"
    elif isinstance(err, pymysql.ProgrammingError | pymysql.NotSupportedError):
        kind = "usage"
    else:
        kind = "transient"  # connection state unknown (e.g. InterfaceError): a retry may pass
    code = f" (error {number})" if number else ""
    return DatabaseFault(kind, f"{message(err)}{code}", _BOUNDS.get(number or 0))
