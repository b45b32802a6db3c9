"""The typed config of ``partitions``: the step that lists a fanned-out step's partitions."""

from typing import ClassVar

from pydantic import Field

from steps.partitions.spec import KeyRanges, ListedSpec
from steps.runtime.config import SecretEnv, StepConfig


class ListPartitions(StepConfig):
    """List the partitions of one step and write them as the ``partitions`` output."""

    KIND: ClassVar[str] = "partitions"
    ROLE: ClassVar[str] = "partitions"

    spec: ListedSpec = Field(description="What the step is partitioned over.")

    def secret_envs(self) -> list[SecretEnv]:
        """The database password of a key-ranges source, if it comes from a Secret."""
        return self.spec.source.secret_envs() if isinstance(self.spec, KeyRanges) else []
