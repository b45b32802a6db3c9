"""Errors of the pipeline side and the CLI exit codes they map to.

0 ok, 1 the run failed, 2 bad usage or a bad pipeline definition.
"""

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2


class FerryError(Exception):
    """Base of Ferry's own errors; the message is one line: what, where, what to do."""

    exit_code = EXIT_RUN_FAILED


class DefinitionError(FerryError):
    """A pipeline definition is invalid; names the pipeline, the step and the field."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        pipeline: str,
        step: str | None,
        field: str | None,
        message: str,
        *,
        location: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.step = step
        self.field = field
        self.message = message
        self.location = location
        where = f"pipeline {pipeline!r}"
        if step:
            where += f", step {step!r}"
        if field:
            where += f", field {field!r}"
        at = f" ({location})" if location else ""
        super().__init__(f"{where}: {message}{at}")

    def at(self, location: str) -> "DefinitionError":
        """The same error, naming the file and line of the definition (YAML)."""
        return DefinitionError(
            self.pipeline, self.step, self.field, self.message, location=location
        )


class UsageError(FerryError):
    """The command was called wrongly (unknown pipeline, bad -p value, bad store)."""

    exit_code = EXIT_USAGE


class RunFailed(FerryError):
    """A run did not succeed."""

    exit_code = EXIT_RUN_FAILED
