"""The typed config of ``commit-state``."""

from typing import ClassVar

from pydantic import Field, field_validator

from steps.runtime.config import StepConfig


class CommitState(StepConfig):
    """Advance the high-water marks of incremental sources after every target committed."""

    KIND: ClassVar[str] = "commit-state"
    ROLE: ClassVar[str] = "state"

    sources: list[str] = Field(
        min_length=1,
        description="Incremental source steps whose new marks to store; each must also be "
        "passed as --input NAME=ARTIFACT_URI (its manifest carries the new mark).",
    )

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[str]) -> list[str]:
        if len(set(sources)) != len(sources):
            raise ValueError("sources lists a step more than once")
        return sources
