"""Row accounting: every row that comes in goes out or is rejected, never lost."""

from dataclasses import dataclass

from steps.runtime.errors import StepError


@dataclass(frozen=True)
class RowCounts:
    """Rows a step took in, passed on, and rejected (to quarantine)."""

    rows_in: int
    rows_out: int
    rows_rejected: int = 0

    def verify(self, step: str) -> None:
        """Fail the step if rows went missing: ``rows_in == rows_out + rows_rejected``."""
        if self.rows_in != self.rows_out + self.rows_rejected:
            raise StepError(
                f"step {step!r}: row accounting broken: {self.rows_in} in != "
                f"{self.rows_out} out + {self.rows_rejected} rejected; this is a Ferry bug, "
                "please report it with the step log"
            )

    @property
    def quality_score(self) -> float:
        """Share of incoming rows that passed (1.0 when nothing came in)."""
        return 1.0 if self.rows_in == 0 else self.rows_out / self.rows_in
