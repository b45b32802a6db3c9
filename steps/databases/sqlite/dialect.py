"""The SQLite entry of the dialect registry."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from steps.databases.dialect import Kind, SqlDialect
from steps.databases.sqlite import errors, sql, types

if TYPE_CHECKING:
    from steps.databases.bounds import Bounds
    from steps.databases.errors import DatabaseFault
    from steps.databases.load_target import TargetDatabase
    from steps.databases.url import DatabaseUrl


class SqliteDialect(SqlDialect):
    """SQLite files through ADBC."""

    name = "sqlite"

    def quote_part(self, part: str) -> str:
        """A double-quoted identifier."""
        return sql.quote_part(part)

    def escape_text(self, text: str) -> str:
        """Quotes doubled."""
        return sql.escape_text(text)

    def sql_type(self, arrow: pa.DataType, *, is_key: bool = False) -> str:
        """See :func:`steps.databases.sqlite.types.sql_type`."""
        return types.sql_type(arrow, is_key=is_key)

    def kind_of(self, declared: str) -> Kind:
        """See :func:`steps.databases.sqlite.types.kind_of`."""
        return types.kind_of(declared)

    def stream(
        self, url: "DatabaseUrl", password: str | None, sql: str, batch_size: int, bounds: "Bounds"
    ) -> Iterator[pa.RecordBatch]:
        """ADBC, ``batch_size`` rows per batch."""
        from steps.databases.sqlite.extract import stream

        return stream(url, password, sql, batch_size, bounds)

    def open_target(
        self, url: "DatabaseUrl", password: str | None, bounds: "Bounds"
    ) -> "TargetDatabase":
        """An ADBC connection binding whole batches to one INSERT."""
        from steps.databases.sqlite.connect import adbc_connect
        from steps.databases.sqlite.load_target import SqliteTarget

        return SqliteTarget(adbc_connect(url, password, bounds), url, self, bounds)

    def classify(self, err: BaseException) -> "DatabaseFault | None":
        """By ADBC status and message (:mod:`steps.databases.sqlite.errors`)."""
        return errors.classify(err)


DIALECT = SqliteDialect()
