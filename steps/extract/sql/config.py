"""The typed config of ``extract-sql``."""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from steps.databases.config import DatabaseStepConfig
from steps.runtime.column_types import TYPE_NAMES_HELP, arrow_schema, validate_declared_columns
from steps.runtime.config import Cursor

if TYPE_CHECKING:
    import pyarrow as pa


class SqlExtract(DatabaseStepConfig):
    """Stream a table or a query from PostgreSQL, MariaDB/MySQL or SQLite into an artifact."""

    KIND: ClassVar[str] = "extract-sql"
    ROLE: ClassVar[str] = "source"
    SQL_FIELDS: ClassVar[tuple[str, ...]] = ("query",)

    @classmethod
    def sql_quote(cls, document: Mapping[str, Any]) -> Callable[[str], str]:
        """A parameter in ``query`` is a literal of the URL's dialect (backslashes too)."""
        from steps.databases.registry import SCHEMES
        from steps.databases.sql import literal

        scheme = str(document.get("url", "")).partition("://")[0].partition("+")[0]
        info = SCHEMES.get(scheme)
        if info is None:
            return super().sql_quote(document)
        return lambda text: literal(info.name, text)

    table: str | None = Field(
        default=None,
        min_length=1,
        description="Table (or schema.table) to read whole; exactly one of table and query.",
    )
    query: str | None = Field(
        default=None,
        min_length=1,
        description="SELECT to run; with a cursor it is wrapped as a subquery. "
        "Exactly one of table and query.",
    )
    cursor: Cursor | None = Field(
        default=None,
        description="Incremental cursor: read rows whose cursor.field is at or above the "
        "stored high-water mark minus lag (or initial_value on the first run) and below "
        "end_value, dropping rows an earlier run delivered; or an explicit, stateless window.",
    )
    batch_size: int = Field(
        default=100_000, gt=0, description="Rows per record batch at most (bounds memory)."
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description=f"Declared schema, column -> type name ({TYPE_NAMES_HELP}). The result "
        "must have exactly these columns; values are cast to these types. None takes the "
        "portable Arrow type of each database column (docs/sources-and-targets-sql.md).",
    )

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        return validate_declared_columns(columns)

    @model_validator(mode="after")
    def _table_or_query(self) -> "SqlExtract":
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table and query")
        if self.cursor is not None:
            self.cursor.check_columns(self.declared_columns())
        return self

    def declared_columns(self) -> list[str] | None:
        """The declared column names, in order, or None when the database decides."""
        return list(self.columns) if self.columns is not None else None

    def declared_schema(self) -> "pa.Schema | None":
        """The declared columns as an Arrow schema, or None."""
        return arrow_schema(self.columns)

    def incremental_cursor(self) -> Cursor | None:
        """The incremental cursor, if the source has one."""
        return self.cursor
