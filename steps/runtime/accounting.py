"""Row accounting: every row that comes in goes out or is rejected, never lost."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from steps.runtime.errors import StepError


@dataclass(frozen=True)
class RowCounts:
    """Rows a step took in, passed on, and rejected (to quarantine).

    A row-preserving step (extract, checks, load) passes every row on or rejects it,
    so ``rows_in == rows_out + rows_rejected`` must hold. A transform or Python step
    makes new rows: ``rows_in`` is what it read (``input_rows`` says from which
    input), ``rows_out`` what it wrote, ``rows_rejected`` what it rejected, and no
    equation ties the read rows to the others.
    """

    rows_in: int
    rows_out: int
    rows_rejected: int = 0
    preserving: bool = True
    input_rows: Mapping[str, int] = field(default_factory=dict)

    def verify(self, step: str) -> None:
        """Fail the step if rows went missing: ``rows_in == rows_out + rows_rejected``."""
        if self.preserving and self.rows_in != self.rows_out + self.rows_rejected:
            raise StepError(
                f"step {step!r}: row accounting broken: {self.rows_in} in != "
                f"{self.rows_out} out + {self.rows_rejected} rejected; this is a Ferry bug, "
                "please report it with the step log"
            )

    @property
    def quality_score(self) -> float:
        """Share of rows that passed: of those that came in, or of those a step made.

        1.0 when there were none.
        """
        handled = self.rows_in if self.preserving else self.rows_out + self.rows_rejected
        return 1.0 if handled == 0 else self.rows_out / handled
