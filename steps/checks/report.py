"""The quality report: per-rule failures with samples, the score, and the verdict.

``report.json`` in the check's artifact is what a person opens after a failed
run, so it names every rule with its failing-row count and a few failing values,
and the one-line failure message points at the worst rules and the quarantine.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.checks.config import RowCount
from steps.checks.rules import CompiledRule
from steps.runtime.accounting import RowCounts

SAMPLE_SIZE = 5
"""Failing values kept per rule."""

WORST_RULES = 3
"""Rules named in the failure message."""


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass
class _RuleTally:
    compiled: CompiledRule
    failed_rows: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    def add(self, batch: pa.RecordBatch, start: int, flags: pa.Array) -> None:
        failed = pc.sum(flags).as_py() or 0
        self.failed_rows += failed
        need = SAMPLE_SIZE - len(self.sample)
        if not failed or need <= 0:
            return
        indices = pc.indices_nonzero(flags)[:need]
        columns = self.compiled.sample_columns
        values = {c: batch.column(c).take(indices).to_pylist() for c in columns}
        for n, index in enumerate(indices.to_pylist()):
            entry: dict[str, Any] = {"row": start + index}
            if len(columns) == 1:
                entry["value"] = values[columns[0]][n]
            elif columns:
                entry["value"] = {c: values[c][n] for c in columns}
            self.sample.append(entry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.compiled.label,
            "rule": self.compiled.rule.model_dump(mode="json", by_alias=True),
            "failed_rows": self.failed_rows,
            "sample": self.sample,
        }


class QualityReport:
    """Collects rule failures batch by batch, then judges the whole input."""

    def __init__(
        self, rules: list[CompiledRule], row_count_rules: list[RowCount], threshold: float
    ) -> None:
        self._tallies = [_RuleTally(r) for r in rules]
        self._row_count_rules = row_count_rules
        self._threshold = threshold

    def add(self, batch: pa.RecordBatch, start: int, flags: list[pa.Array]) -> None:
        """Count one batch's failures; ``flags[i]`` marks the rows failing rule ``i``."""
        for tally, rule_flags in zip(self._tallies, flags, strict=True):
            tally.add(batch, start, rule_flags)

    def _failed_row_counts(self, rows_in: int) -> list[RowCount]:
        return [r for r in self._row_count_rules if not r.allows(rows_in)]

    def passed(self, counts: RowCounts) -> bool:
        """Whether the score reaches the threshold and every row_count rule holds."""
        return counts.quality_score >= self._threshold and not self._failed_row_counts(
            counts.rows_in
        )

    def to_json(
        self,
        counts: RowCounts,
        profile: dict[str, Any] | None = None,
        drift: dict[str, Any] | None = None,
    ) -> str:
        """The report as JSON text, with the input's column profile and its drift."""
        report = {
            "rows_in": counts.rows_in,
            "rows_out": counts.rows_out,
            "rows_rejected": counts.rows_rejected,
            "quality_score": round(counts.quality_score, 6),
            "threshold": self._threshold,
            "unique_policy": "the first occurrence in input order passes; later ones are rejected",
            "rules": [t.to_dict() for t in self._tallies],
            "row_count": [
                {
                    "name": r.label(),
                    "min": r.min,
                    "max": r.max,
                    "rows": counts.rows_in,
                    "passed": r.allows(counts.rows_in),
                    "note": "dataset-level rule: a violation fails the step, no row is rejected",
                }
                for r in self._row_count_rules
            ],
            "passed": self.passed(counts),
            "profile": profile,
            "profile_drift": drift,
        }
        return json.dumps(report, indent=2, default=str)

    def failure_message(self, counts: RowCounts, quarantine_uri: str, report_uri: str) -> str:
        """One line saying why the check failed and where to look ("" when it passed)."""
        problems = [
            f"{r.label()} failed: the input has {counts.rows_in} rows; see {report_uri}"
            for r in self._failed_row_counts(counts.rows_in)
        ]
        if counts.quality_score < self._threshold:
            failing = [t for t in self._tallies if t.failed_rows]
            worst = sorted(failing, key=lambda t: -t.failed_rows)[:WORST_RULES]
            named = ", ".join(f"{t.compiled.label} {_rows(t.failed_rows)}" for t in worst)
            problems.append(
                f"quality score {counts.quality_score:.4f} is below threshold "
                f"{self._threshold:.4f} ({counts.rows_out}/{counts.rows_in} rows valid); "
                f"worst rules: {named}; see quarantine at {quarantine_uri}"
            )
        return "; ".join(problems)
