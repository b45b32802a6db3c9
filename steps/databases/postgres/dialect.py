"""The PostgreSQL entry of the dialect registry."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from steps.databases.dialect import Kind, SqlDialect
from steps.databases.postgres import errors, sql, types

if TYPE_CHECKING:
    from steps.databases.bounds import Bounds
    from steps.databases.errors import DatabaseFault
    from steps.databases.load_target import TargetDatabase
    from steps.databases.url import DatabaseUrl


class PostgresDialect(SqlDialect):
    """PostgreSQL through ADBC (extract) and psycopg 3 (load)."""

    max_identifier = 63  # NAMEDATALEN - 1 bytes
    name = "postgresql"

    def quote_part(self, part: str) -> str:
        """A double-quoted identifier."""
        return sql.quote_part(part)

    def escape_text(self, text: str) -> str:
        """Quotes doubled."""
        return sql.escape_text(text)

    def sql_type(self, arrow: pa.DataType, *, is_key: bool = False) -> str:
        """See :func:`steps.databases.postgres.types.sql_type`."""
        return types.sql_type(arrow, is_key=is_key)

    def kind_of(self, declared: str) -> Kind:
        """See :func:`steps.databases.postgres.types.kind_of`."""
        return types.kind_of(declared)

    def stream(
        self, url: "DatabaseUrl", password: str | None, sql: str, batch_size: int, bounds: "Bounds"
    ) -> Iterator[pa.RecordBatch]:
        """Binary COPY through ADBC (batch sizes as the driver delivers)."""
        from steps.databases.postgres.extract import stream

        return stream(url, password, sql, bounds)

    def open_target(
        self, url: "DatabaseUrl", password: str | None, bounds: "Bounds"
    ) -> "TargetDatabase":
        """A psycopg 3 connection with the COPY bulk path."""
        from steps.databases.postgres.connect import psycopg_connect
        from steps.databases.postgres.load_target import PostgresTarget

        return PostgresTarget(psycopg_connect(url, password, bounds), url, self, bounds)

    def classify(self, err: BaseException) -> "DatabaseFault | None":
        """By SQLSTATE (:mod:`steps.databases.postgres.errors`)."""
        return errors.classify(err)


DIALECT = PostgresDialect()
