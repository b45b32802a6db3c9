"""The typed config of ``load-sql``."""

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from steps.databases.config import DatabaseStepConfig


class SqlTableLoad(DatabaseStepConfig):
    """Load the single input artifact into one table, in one transaction, idempotently."""

    KIND: ClassVar[str] = "load-sql"
    ROLE: ClassVar[str] = "target"

    table: str = Field(
        min_length=1,
        description="Target table, optionally schema.table; created from the data's schema "
        "when missing (with the key as primary key).",
    )
    mode: Literal["append", "replace", "upsert"] = Field(
        default="append",
        description="append: add the rows; replace: swap in a table holding exactly these "
        "rows (readers see the old or the new content, never an empty table); upsert: "
        "insert or update by key.",
    )
    key: list[str] = Field(
        default_factory=list,
        description="Key columns: required for upsert (a unique key or primary key on them).",
    )
    allow_new_columns: bool = Field(
        default=False,
        description="Add source columns the table lacks (ALTER TABLE ADD COLUMN); when false "
        "such columns fail the load naming them.",
    )
    batch_size: int = Field(
        default=50_000, gt=0, description="Rows read from the artifact and sent per batch."
    )

    @model_validator(mode="after")
    def _key_fits_mode(self) -> "SqlTableLoad":
        if self.mode == "upsert" and not self.key:
            raise ValueError("mode 'upsert' needs key: the columns that identify a row")
        if len(set(self.key)) != len(self.key):
            raise ValueError("key lists a column more than once")
        return self

    def input_columns(self) -> dict[str, list[str]]:
        """The key columns, which the input must have."""
        return {"key": list(self.key)}

    def redelivery_problem(self) -> str | None:
        """An append adds a re-delivered row again; upsert replaces it by key."""
        if self.mode == "append":
            return "mode 'append' would duplicate those rows; use mode='upsert' with a key"
        return None
