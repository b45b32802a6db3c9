"""What a step is partitioned over: the models shared by the pipeline API and the step.

A partitioned step runs once per partition, each in its own pod writing its own
partition artifact (``docs/pipelines.md``, "Partitions"). A partition is an *item*:
a small JSON object whose ``key`` names the partition artifact and whose other fields
(``value``, ``path``, ``start``/``end``, ``lower``/``upper``) reach the step's config
through ``partition("field")``. An explicit list is known when the pipeline is
rendered; every other kind is listed at run time by the ``partitions`` step.
"""

import difflib
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steps.extract.sql.config import SqlExtract

MAX_PARTITIONS = 1000
"""Most partitions one step fans out to: the list travels as an Argo parameter, and a
fan-out wider than this is better served by fewer, larger partitions."""

DEFAULT_PARALLELISM = 4
"""Partitions of one step that run at the same time unless the step says otherwise."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    FIELDS: ClassVar[tuple[str, ...]] = ()
    """The item fields besides ``key`` that ``partition(...)`` may name."""

    LISTED_AT_RUN_TIME: ClassVar[bool] = True
    """Whether the ``partitions`` step lists the items (False: known at render time)."""

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """Name a misspelt field and the one meant, instead of a bare "Field required"."""
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key not in cls.model_fields:
                    close = difflib.get_close_matches(key, sorted(cls.model_fields), n=1)
                    hint = (
                        f"did you mean {close[0]!r}?"
                        if close
                        else "known: " + ", ".join(sorted(cls.model_fields))
                    )
                    raise ValueError(f"{cls.__name__} has no field {key!r}; {hint}")
        return data

    parallelism: int = Field(
        default=DEFAULT_PARALLELISM,
        ge=1,
        description="Partitions that run at the same time (the fan-out template's "
        "Argo parallelism; the local runner keeps the same limit).",
    )


class PartitionList(_Spec):
    """An explicit list of values, one partition each (rendered as ``withItems``)."""

    kind: Literal["list"] = Field(default="list", description="Partition kind (YAML: list).")
    values: list[str] = Field(
        min_length=1,
        max_length=MAX_PARTITIONS,
        description="The values; each is partition('value') in its partition, and names "
        "its partition artifact (letters, digits, '.', '_' and '-' only).",
    )

    FIELDS: ClassVar[tuple[str, ...]] = ("value",)
    LISTED_AT_RUN_TIME: ClassVar[bool] = False

    @field_validator("values")
    @classmethod
    def _keys(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or safe_key(value) != value:
                raise ValueError(
                    f"value {value!r} cannot name a partition; use letters, digits, '.', '_' "
                    "and '-' only"
                )
        if len(set(values)) != len(values):
            raise ValueError("values lists a value more than once")
        return values


class DateRange(_Spec):
    """Consecutive date windows ``[start, end)`` of ``days`` days each."""

    kind: Literal["dates"] = Field(default="dates", description="Partition kind (YAML: dates).")
    start: str = Field(
        description="First day (YYYY-MM-DD, inclusive); may be param('interval_start') and "
        "the like: a timestamp's date part is used."
    )
    end: str = Field(description="Day after the last (YYYY-MM-DD, exclusive).")
    days: int = Field(default=1, ge=1, description="Days per partition (the last may be shorter).")

    FIELDS: ClassVar[tuple[str, ...]] = ("start", "end")


class FileGlob(_Spec):
    """One partition per file a path or glob matches (local or ``s3://``)."""

    kind: Literal["files"] = Field(default="files", description="Partition kind (YAML: files).")
    path: str = Field(
        description="A file or a glob such as data/orders/*.csv, listed when the run starts; "
        "each file is partition('path') in its partition."
    )

    FIELDS: ClassVar[tuple[str, ...]] = ("path",)


class KeyRanges(_Spec):
    """``count`` ranges ``[lower, upper)`` of an integer or date column of a SQL table.

    The ``partitions`` step reads the column's MIN and MAX from ``source`` and cuts
    the span into ``count`` ranges of equal width (the last may be narrower); a
    partitioned ``SqlExtract`` then reads its range, e.g. ``WHERE id >=
    cast({partition("lower")} as bigint) AND id < cast({partition("upper")} as bigint)``.
    """

    kind: Literal["key-ranges"] = Field(
        default="key-ranges", description="Partition kind (YAML: key-ranges)."
    )
    source: SqlExtract = Field(
        description="The table or query to split and how to reach it (url, password, "
        "timeouts): an SqlExtract without a cursor."
    )
    column: str = Field(min_length=1, description="An integer or date column to split on.")
    count: int = Field(ge=1, le=MAX_PARTITIONS, description="How many ranges (at most).")

    FIELDS: ClassVar[tuple[str, ...]] = ("lower", "upper")

    @model_validator(mode="after")
    def _no_cursor(self) -> "KeyRanges":
        if self.source.cursor is not None:
            raise ValueError("key-ranges source has a cursor; split a plain table or query")
        return self


class FromStep(_Spec):
    """One partition per distinct value of a column of an upstream step's output."""

    kind: Literal["from-step"] = Field(
        default="from-step", description="Partition kind (YAML: from-step)."
    )
    step: str = Field(description="The upstream step whose output lists the partitions.")
    column: str = Field(description="Its column whose distinct values are the partitions.")

    FIELDS: ClassVar[tuple[str, ...]] = ("value",)


class SameAs(_Spec):
    """Run per partition of an upstream partitioned step, reading its matching partition.

    A partition-wise chain (extract -> check -> load per partition) has no join point:
    partition ``k`` of this step reads partition ``k`` of ``step`` only.
    """

    kind: Literal["same-as"] = Field(
        default="same-as", description="Partition kind (YAML: same-as)."
    )
    step: str = Field(
        description="An input of this step that is partitioned (or itself same-as one)."
    )

    LISTED_AT_RUN_TIME: ClassVar[bool] = False


PartitionSpec = Annotated[
    PartitionList | DateRange | FileGlob | KeyRanges | FromStep | SameAs,
    Field(discriminator="kind"),
]
"""Any partitioning, told apart by ``kind``."""

AnyPartitionSpec = PartitionList | DateRange | FileGlob | KeyRanges | FromStep | SameAs
"""The partition classes, for ``isinstance`` and annotations."""

ListedSpec = Annotated[DateRange | FileGlob | KeyRanges | FromStep, Field(discriminator="kind")]
"""The kinds the ``partitions`` step lists at run time."""


def safe_key(text: str) -> str:
    """``text`` as a partition key: characters outside ``[A-Za-z0-9._-]`` become ``-``."""
    return "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "-" for c in text)
