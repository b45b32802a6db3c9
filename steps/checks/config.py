"""The ``check`` step's config: a list of rules and a quality threshold.

Rules are a discriminated union on the field ``rule``, so the JSON form of a rule
says which rule it is (``{"rule": "not_null", "column": "order_id"}``) and the
pipeline API and the step parse exactly the same models.
"""

from abc import ABC, abstractmethod
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steps.runtime.config import StepConfig

Scalar = str | int | float | bool
Bound = int | float | str


class RuleBase(BaseModel, ABC):
    """What every rule has: a stable label and the columns it reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @abstractmethod
    def label(self) -> str:
        """The rule's stable name in reasons and in the report, e.g. ``not_null(order_id)``."""

    @abstractmethod
    def columns(self) -> list[str]:
        """Columns the rule reads, so a definition can be checked against the source's."""


class NotNull(RuleBase):
    """A row fails when ``column`` is null."""

    rule: Literal["not_null"] = "not_null"
    column: str = Field(description="Column that must not be null.")

    def label(self) -> str:
        """``not_null(column)``."""
        return f"not_null({self.column})"

    def columns(self) -> list[str]:
        """The one column checked."""
        return [self.column]


class Unique(RuleBase):
    """A row fails when an earlier row (in input order) has the same key.

    The first occurrence passes, every later one is quarantined, so a retry
    quarantines the same rows. Rows with a null in any key column are not compared
    (SQL semantics: null equals nothing); use ``not_null`` to reject them.
    """

    rule: Literal["unique"] = "unique"
    columns_: list[str] = Field(
        alias="columns",
        min_length=1,
        description="Key columns whose combined value must be unique; a single name is accepted.",
    )

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    @field_validator("columns_", mode="before")
    @classmethod
    def _single_column(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def label(self) -> str:
        """``unique(col, ...)``."""
        return f"unique({', '.join(self.columns_)})"

    def columns(self) -> list[str]:
        """The key columns."""
        return list(self.columns_)


class AcceptedValues(RuleBase):
    """A row fails when ``column`` holds a value outside ``values``; null passes."""

    rule: Literal["accepted_values"] = "accepted_values"
    column: str = Field(description="Column whose values are restricted.")
    values: list[Scalar] = Field(
        min_length=1, description="The allowed values, compared with the column's own type."
    )

    def label(self) -> str:
        """``accepted_values(column)``."""
        return f"accepted_values({self.column})"

    def columns(self) -> list[str]:
        """The one column checked."""
        return [self.column]


class Range(RuleBase):
    """A row fails when ``column`` lies outside ``min``..``max``; null passes.

    String bounds are cast to the column's type, so dates and timestamps take
    ``"2024-01-01"`` or ``"2024-01-01 00:00:00"``.
    """

    rule: Literal["range"] = "range"
    column: str = Field(description="Column whose values are bounded.")
    min: Bound | None = Field(default=None, description="Lowest allowed value; None for no bound.")
    max: Bound | None = Field(default=None, description="Highest allowed value; None for no bound.")
    inclusive: bool = Field(
        default=True, description="Whether the bounds themselves are allowed (>= and <=)."
    )

    @model_validator(mode="after")
    def _has_a_bound(self) -> "Range":
        if self.min is None and self.max is None:
            raise ValueError(f"{self.label()} needs min, max or both")
        return self

    def label(self) -> str:
        """``range(column)``."""
        return f"range({self.column})"

    def columns(self) -> list[str]:
        """The one column checked."""
        return [self.column]


class Regex(RuleBase):
    """A row fails when ``column`` (as text) does not match ``pattern``; null passes.

    The pattern is RE2 syntax (no look-around, no back-references) and matches
    anywhere in the value; anchor it with ``^...$`` to match the whole value.
    """

    rule: Literal["regex"] = "regex"
    column: str = Field(description="Column whose text must match.")
    pattern: str = Field(description="RE2 regular expression, e.g. '^[^@]+@[^@]+$'.")

    def label(self) -> str:
        """``regex(column)``."""
        return f"regex({self.column})"

    def columns(self) -> list[str]:
        """The one column checked."""
        return [self.column]


class RowCount(RuleBase):
    """A dataset-level rule: the step fails when the input's row count is out of bounds.

    It rejects no row; a violation fails the whole step after the artifact and
    the report are written.
    """

    rule: Literal["row_count"] = "row_count"
    min: int | None = Field(
        default=None, ge=0, description="Fewest rows accepted; None for no bound."
    )
    max: int | None = Field(
        default=None, ge=0, description="Most rows accepted; None for no bound."
    )

    @model_validator(mode="after")
    def _has_a_bound(self) -> "RowCount":
        if self.min is None and self.max is None:
            raise ValueError("row_count needs min, max or both")
        return self

    def label(self) -> str:
        """``row_count(min=.., max=..)`` with the bounds that are set."""
        bounds = [f"{k}={v}" for k, v in (("min", self.min), ("max", self.max)) if v is not None]
        return f"row_count({', '.join(bounds)})"

    def columns(self) -> list[str]:
        """No column: it counts rows."""
        return []

    def allows(self, rows: int) -> bool:
        """Whether ``rows`` lies within the bounds."""
        return (self.min is None or rows >= self.min) and (self.max is None or rows <= self.max)


class SqlRule(RuleBase):
    """A row fails unless the SQL boolean expression is true for it (null fails too).

    The expression is DuckDB SQL over the row's columns, e.g.
    ``shipped_at IS NULL OR shipped_at >= ordered_at``.
    """

    rule: Literal["sql"] = "sql"
    name: str = Field(
        min_length=1, description="Short name of the predicate, shown as sql(<name>)."
    )
    predicate: str = Field(min_length=1, description="DuckDB boolean expression over the columns.")

    def label(self) -> str:
        """``sql(name)``."""
        return f"sql({self.name})"

    def columns(self) -> list[str]:
        """Free SQL: the columns are checked when the step binds the expression."""
        return []


Rule = Annotated[
    NotNull | Unique | AcceptedValues | Range | Regex | RowCount | SqlRule,
    Field(discriminator="rule"),
]


class ChecksConfig(StepConfig):
    """Config of the ``check`` step."""

    KIND: ClassVar[str] = "check"
    ROLE: ClassVar[str] = "check"
    SQL_FIELDS: ClassVar[tuple[str, ...]] = ("rules.*.predicate",)

    rules: list[Rule] = Field(
        min_length=1, description="Rules every row (or, for row_count, the whole input) must pass."
    )
    threshold: float = Field(
        default=0.95,
        ge=0.0,
        le=1.0,
        description="Lowest quality score (valid rows / rows in) accepted; below it the "
        "step fails (exit 3) or warns, as severity says.",
    )
    batch_size: int = Field(
        default=131_072,
        gt=0,
        description="Rows per record batch read and checked (each batch is one DuckDB "
        "query over every rule; fewer, larger batches spend less on each query's set-up).",
    )
    severity: Literal["error", "warn"] = Field(
        default="error",
        description="Below the threshold: 'error' fails the step (exit 3) and nothing "
        "downstream runs; 'warn' quarantines and reports the same, then lets downstream "
        "steps run, with the warning in the run record.",
    )
    profile_drift: float | None = Field(
        default=2.0,
        gt=1.0,
        description="Warn when the input's row count or a column's null share changes by "
        "this factor or more (either way) since the previous run of this step; None "
        "switches the comparison off (the profile is still reported).",
    )
