"""The MariaDB/MySQL entry of the dialect registry."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from steps.databases.dialect import Kind, SqlDialect
from steps.databases.mysql import errors, sql, types

if TYPE_CHECKING:
    from steps.databases.bounds import Bounds
    from steps.databases.errors import DatabaseFault
    from steps.databases.load_target import TargetDatabase
    from steps.databases.url import DatabaseUrl


class MysqlDialect(SqlDialect):
    """MariaDB/MySQL through PyMySQL (unbuffered reads, multi-row INSERT loads)."""

    max_identifier = 64  # characters; counted in bytes, which is stricter
    name = "mysql"

    def quote_part(self, part: str) -> str:
        """A backquoted identifier."""
        return sql.quote_part(part)

    def escape_text(self, text: str) -> str:
        """Quotes doubled, backslashes escaped."""
        return sql.escape_text(text)

    def sql_type(self, arrow: pa.DataType, *, is_key: bool = False) -> str:
        """See :func:`steps.databases.mysql.types.sql_type`."""
        return types.sql_type(arrow, is_key=is_key)

    def kind_of(self, declared: str) -> Kind:
        """See :func:`steps.databases.mysql.types.kind_of`."""
        return types.kind_of(declared)

    def same_name(self, name: str) -> str:
        """Column names compare case-insensitively."""
        return name.lower()

    def stream(
        self, url: "DatabaseUrl", password: str | None, sql: str, batch_size: int, bounds: "Bounds"
    ) -> Iterator[pa.RecordBatch]:
        """An unbuffered cursor, ``batch_size`` rows per batch."""
        from steps.databases.mysql.extract import stream

        return stream(url, password, sql, batch_size, bounds)

    def open_target(
        self, url: "DatabaseUrl", password: str | None, bounds: "Bounds"
    ) -> "TargetDatabase":
        """A PyMySQL connection with the multi-row INSERT bulk path."""
        from steps.databases.mysql.connect import pymysql_connect
        from steps.databases.mysql.load_target import MysqlTarget

        return MysqlTarget(pymysql_connect(url, password, bounds), url, self, bounds)

    def classify(self, err: BaseException) -> "DatabaseFault | None":
        """By error number (:mod:`steps.databases.mysql.errors`)."""
        return errors.classify(err)


DIALECT = MysqlDialect()
