"""Step errors and the exit codes they map to.

A step reports failure as one line (what, where, what to do) and an exit code the
runner and Argo can act on: 1 for a failure that may pass on a retry (a system was
unreachable, a file was not there yet), 2 for bad usage or bad config, 3 for input
data the step rejects. Codes 2 and 3 are deterministic: the same run fails the same
way again, so the rendered ``retryStrategy`` does not retry them.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from steps.runtime.accounting import RowCounts

from steps.contract import EXIT_DATA, EXIT_FAILED, EXIT_OK, EXIT_USAGE

__all__ = [
    "EXIT_DATA",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "DataRejected",
    "StepError",
    "StepUsageError",
]


class StepError(Exception):
    """The step failed on a system it talks to, or for a reason a retry may clear (exit 1).

    ``counts`` are the rows the step did account for before failing (a quality gate
    fails after checking every row); they are still reported as output parameters.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, counts: "RowCounts | None" = None) -> None:
        super().__init__(message)
        self.counts = counts


class StepUsageError(StepError):
    """The step was called wrongly or its config is invalid (exit 2)."""

    exit_code = EXIT_USAGE


class DataRejected(StepError):
    """The input is bad for this step; running it again on the same input fails again (exit 3)."""

    exit_code = EXIT_DATA
