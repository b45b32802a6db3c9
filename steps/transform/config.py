"""The ``transform`` step's config: one DuckDB query and the engine's resource limits."""

from typing import ClassVar

from pydantic import Field

from steps.runtime.config import StepConfig


class TransformConfig(StepConfig):
    """Config of the ``transform`` step.

    Each ``--input NAME=URI`` is a table named exactly ``NAME`` in the SQL; a name
    with ``-`` must be double-quoted (``"orders-checked"``) or used through its
    underscore alias (``orders_checked``).
    """

    KIND: ClassVar[str] = "transform"

    sql: str = Field(
        min_length=1,
        description="DuckDB SQL whose result is the output; the last statement must return rows.",
    )
    memory_limit: str = Field(
        default="1GB",
        description="DuckDB memory_limit, e.g. '512MB', '4GB'; beyond it DuckDB spills.",
    )
    threads: int | None = Field(
        default=None, gt=0, description="DuckDB worker threads; None lets DuckDB use every core."
    )
    temp_directory: str | None = Field(
        default=None,
        description="Folder DuckDB spills to; None: a fresh temporary folder, removed afterwards.",
    )
    batch_size: int = Field(default=122_880, gt=0, description="Rows per record batch written out.")
