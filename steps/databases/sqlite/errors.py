"""SQLite driver errors (ADBC) classified by ADBC status code and message.

The ADBC SQLite driver carries no SQLSTATE; its status code (``err.status_code``,
https://arrow.apache.org/adbc/current/format/specification.html) and SQLite's
message tell a constraint violation from a missing table or a busy database.
"""

import re

from steps.databases.errors import DatabaseFault, FaultKind, one_line

# ADBC status codes
_DATA_STATUS = {7, 8}  # INVALID_DATA, INTEGRITY
_USAGE_STATUS = {2, 3, 4, 5, 13, 14}  # NOT_IMPLEMENTED, NOT_FOUND, ALREADY_EXISTS,
# INVALID_ARGUMENT (no such table/column, syntax), UNAUTHENTICATED, UNAUTHORIZED
_BUSY = re.compile(r"database is locked|database table is locked|busy", re.IGNORECASE)
_DATA_TEXT = re.compile(r"constraint failed|datatype mismatch|too big", re.IGNORECASE)


def classify(err: BaseException) -> DatabaseFault | None:
    """The fault ``err`` stands for; None when it is not an ADBC driver error."""
    import adbc_driver_manager

    if not isinstance(err, adbc_driver_manager.Error):
        return None
    message = one_line(str(err)) or type(err).__name__
    status = getattr(err, "status_code", None)
    kind: FaultKind
    if _BUSY.search(message):
        return DatabaseFault("transient", message, "lock_timeout")
    elif status in _DATA_STATUS or _DATA_TEXT.search(message):
        kind = "data"
    elif status in _USAGE_STATUS:
        kind = "usage"
    else:
        kind = "transient"
    return DatabaseFault(kind, message)
