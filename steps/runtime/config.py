"""The base of every step kind's typed config.

Configs are pydantic models so that the pipeline API and the step share one
definition: the API validates and serialises a config at ``ferry render`` time, the
step parses the very same JSON from ``--config`` in the pod.
"""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class SecretEnv(BaseModel):
    """An environment variable whose value comes from a Kubernetes Secret.

    Rendered as ``env[].valueFrom.secretKeyRef``; the local runner reads the variable
    of the same name from its own environment instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(description="Environment variable name the step reads, e.g. ORDERS_API_TOKEN.")
    secret_name: str = Field(description="Name of the Kubernetes Secret holding the value.")
    secret_key: str = Field(description="Key inside the Secret.")


class Cursor(BaseModel):
    """An incremental-extraction cursor: which field, where to start, where to stop.

    The high-water mark lives in the store and advances only after every target of
    the run has committed (see ``steps.state``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(description="Column (SQL) or record field (HTTP) that only grows.")
    initial_value: str | int | float | None = Field(
        default=None, description="Lower bound of the first run, when no state exists yet."
    )
    end_value: str | int | float | None = Field(
        default=None, description="Upper bound (exclusive) for backfills; None means open."
    )


class StepConfig(BaseModel):
    """Base of every step kind's config: strict, immutable, JSON-serialisable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str] = ""
    """The ``python -m steps <kind>`` sub-command that runs this config."""

    ROLE: ClassVar[str] = ""
    """Which pipeline node runs this config: ``source``, ``check``, ``transform``,
    ``python``, ``target`` or ``state`` (the step added for incremental sources)."""

    def declared_columns(self) -> list[str] | None:
        """Columns this step's output is known to have, or None when inferred."""
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
