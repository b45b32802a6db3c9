"""Step errors and the exit codes they map to.

A step reports failure as one line (what, where, what to do) and an exit code the
runner and Argo can act on: 1 for a failed run, 2 for bad usage or bad config.
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class StepError(Exception):
    """The step failed on its data or on a system it talks to (exit 1)."""

    exit_code = EXIT_FAILED


class StepUsageError(StepError):
    """The step was called wrongly or its config is invalid (exit 2)."""

    exit_code = EXIT_USAGE
