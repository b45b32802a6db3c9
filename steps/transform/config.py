"""The ``transform`` step's config: one DuckDB query and the engine's resource limits."""

from typing import ClassVar

from pydantic import Field

from steps.runtime.artifacts import ROWS_PER_FILE
from steps.runtime.config import StepConfig

DEFAULT_MEMORY_LIMIT = "512MB"
"""DuckDB's share of the step's memory: with Python and Parquet buffers the step stays
well under 1 GiB, and its peak barely grows with the input (docs/performance.md)."""


class TransformConfig(StepConfig):
    """Config of the ``transform`` step.

    Each ``--input NAME=URI`` is a table named exactly ``NAME`` in the SQL; a name
    with ``-`` must be double-quoted (``"orders-checked"``) or used through its
    underscore alias (``orders_checked``).
    """

    KIND: ClassVar[str] = "transform"
    ROLE: ClassVar[str] = "transform"
    SQL_FIELDS: ClassVar[tuple[str, ...]] = ("sql",)

    sql: str = Field(
        min_length=1,
        description="DuckDB SQL whose result is the output; the last statement must return rows.",
    )
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory_limit, e.g. '512MB', '4GB'; beyond it DuckDB spills.",
    )
    keep_order: bool = Field(
        default=False,
        description=(
            "Keep the input's row order where the SQL has no ORDER BY (DuckDB "
            "preserve_insertion_order); slower and uses more memory. ORDER BY is always kept."
        ),
    )
    threads: int | None = Field(
        default=None, gt=0, description="DuckDB worker threads; None lets DuckDB use every core."
    )
    temp_directory: str | None = Field(
        default=None,
        description="Folder DuckDB spills to; None: a fresh temporary folder, removed afterwards.",
    )
    row_group_size: int = Field(
        default=122_880, gt=0, description="Rows per Parquet row group of the output."
    )
    rows_per_file: int = Field(
        default=ROWS_PER_FILE,
        gt=0,
        description="About this many rows per output file (whole row groups), so later "
        "steps can read the output a file at a time.",
    )
