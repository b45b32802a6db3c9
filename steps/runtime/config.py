"""The base of every step kind's typed config.

Configs are pydantic models so that the pipeline API and the step share one
definition: the API validates and serialises a config at ``ferry render`` time, the
step parses the very same JSON from ``--config`` in the pod.
"""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SecretEnv(BaseModel):
    """An environment variable whose value comes from a Kubernetes Secret.

    Rendered as ``env[].valueFrom.secretKeyRef``; the local runner reads the variable
    of the same name from its own environment instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(description="Environment variable name the step reads, e.g. ORDERS_API_TOKEN.")
    secret_name: str = Field(description="Name of the Kubernetes Secret holding the value.")
    secret_key: str = Field(description="Key inside the Secret.")


CursorValue = str | int | float
"""A cursor value as JSON carries it: a number, or text (dates and timestamps as ISO text)."""


class Cursor(BaseModel):
    """An incremental-extraction cursor: which field, where to start, where to stop.

    Two modes (see ``steps.incremental``):

    - **incremental** (``window_start`` unset or empty): the lower bound is the stored
      high-water mark minus ``lag``, inclusive; rows already delivered at or above it
      are dropped by their key digest, so late rows sharing the mark are read once.
      The mark and the key set advance only after every target of the run committed.
    - **explicit window** (``window_start`` set, e.g. a backfill): rows in
      ``[window_start, window_end)``; state is neither read nor advanced.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(
        min_length=1,
        description="Column (SQL) or record field (HTTP) that only grows, e.g. updated_at.",
    )
    primary_key: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Columns that identify a row, used with the cursor value to drop rows "
        "at the boundary (and in the lag) that an earlier run already delivered. None: all "
        "columns of the row.",
    )
    lag: float | None = Field(
        default=None,
        ge=0,
        description="Re-read this much below the stored mark, for late-arriving rows: cursor "
        "units for numeric cursors, seconds for timestamp cursors (whole days, rounded up, for "
        "date cursors). Re-read rows already delivered are dropped by key. None: no lag.",
    )
    initial_value: CursorValue | None = Field(
        default=None,
        description="Lower bound (inclusive) of the first incremental run, before any state "
        "exists; None reads from the start.",
    )
    end_value: CursorValue | None = Field(
        default=None,
        description="Upper bound (exclusive) of incremental runs; None means open.",
    )
    window_start: CursorValue | None = Field(
        default=None,
        description="Explicit window start (inclusive), e.g. "
        "'{{workflow.parameters.interval_start}}' for backfills. Set (not empty): the run is "
        "stateless, state is neither read nor advanced. None or '': incremental run.",
    )
    window_end: CursorValue | None = Field(
        default=None,
        description="Explicit window end (exclusive), with window_start; None or '' is open.",
    )

    @field_validator("primary_key")
    @classmethod
    def _unique_key(cls, key: list[str] | None) -> list[str] | None:
        if key is not None and len(set(key)) != len(key):
            raise ValueError("primary_key lists a column more than once")
        return key

    @model_validator(mode="after")
    def _window_pair(self) -> "Cursor":
        if not _blank(self.window_end) and _blank(self.window_start):
            raise ValueError(
                "window_end needs window_start (an explicit window); the upper bound of "
                "incremental runs is end_value"
            )
        return self

    @property
    def explicit_window(self) -> bool:
        """Whether this run reads an explicit window (stateless) rather than from the mark."""
        return not _blank(self.window_start)

    def check_columns(self, columns: list[str] | None) -> None:
        """Refuse a cursor field or key column missing from the declared ``columns``.

        Raises:
            ValueError: a column the cursor names is not declared.
        """
        if columns is None:
            return
        if self.field not in columns:
            raise ValueError(f"cursor field {self.field!r} is not among the declared columns")
        missing = [k for k in self.primary_key or [] if k not in columns]
        if missing:
            names = ", ".join(repr(k) for k in missing)
            raise ValueError(f"cursor primary_key column(s) {names} not among the declared columns")


def _blank(value: CursorValue | None) -> bool:
    return value is None or value == ""


class StepConfig(BaseModel):
    """Base of every step kind's config: strict, immutable, JSON-serialisable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str] = ""
    """The ``python -m steps <kind>`` sub-command that runs this config."""

    SQL_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Dotted paths of fields holding SQL text (``*`` for any list index): a workflow
    parameter used there is filled in as a quoted SQL literal (``steps.runtime.parameters``)."""

    ROLE: ClassVar[str] = ""
    """Which pipeline node runs this config: ``source``, ``check``, ``transform``,
    ``python``, ``target``, ``state`` (the step added for incremental sources) or
    ``partitions`` (the step added to list a partitioned step's partitions)."""

    DECLARES_FRESHNESS: ClassVar[bool] = False
    """Whether :meth:`cache_freshness` tells when the step's result is out of date (a
    files source lists its files); a source without it may be cached only with a TTL."""

    @classmethod
    def sql_quote(cls, document: Mapping[str, Any]) -> Callable[[str], str]:
        """How a parameter becomes a SQL literal in this config's ``SQL_FIELDS``.

        ``document`` is the parsed ``--config`` (a database config looks at its URL's
        dialect). The default is standard SQL quoting, as DuckDB reads it.
        """
        from steps.runtime.parameters import sql_literal

        return sql_literal

    def declared_columns(self) -> list[str] | None:
        """Columns this step's output is known to have, or None when inferred."""
        return None

    def cache_freshness(self) -> object | None:
        """What besides config and inputs a cached result depends on, as JSON values.

        Part of the cache key (``steps.runtime.cache``): e.g. the files a source reads
        with their sizes and modification times. None: nothing else.
        """
        return None

    def secret_envs(self) -> list[SecretEnv]:
        """Secrets the step needs as environment variables."""
        return []

    def incremental_cursor(self) -> Cursor | None:
        """The incremental cursor of a source, if it has one."""
        return None

    def input_columns(self) -> dict[str, list[str]]:
        """Columns this step needs in its input, by the config field that names them.

        Validation checks them against the upstream step's columns where those are
        known (e.g. a load's ``partition_by`` and ``key``).
        """
        return {}

    def redelivery_problem(self) -> str | None:
        """Why loading the same rows twice would duplicate them, or None when it is safe.

        An incremental source re-delivers its window after a failed run (the mark
        advances only after every target committed), so only a target for which this
        is None may be fed by one.
        """
        return None
