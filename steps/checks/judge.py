"""Judge batches on worker threads: the rules' flags, then the rows that pass and fail.

DuckDB and pyarrow release the GIL, so two batches are judged (and their column
profiles summarized) at the same time on a pod's two cores. Each judgement borrows
one of the step's DuckDB cursors (a batch is registered on the cursor that
evaluates it, and a cursor serves one thread at a time). What depends on the order
of the batches (report, profile merge, writing) stays
with the caller, who gets the judgements back in input order from ``ordered_map``.
"""

import queue
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from steps.checks.evaluate import BatchEvaluator
from steps.checks.profile import BatchProfile, Profiler
from steps.runtime.artifacts import REASON_COLUMN
from steps.runtime.ordered_pool import WORKERS

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Batch:
    """A batch of input rows, where it starts in the input, and its ``unique`` flags."""

    rows: pa.RecordBatch
    start: int
    unique_flags: dict[str, pa.Array]


@dataclass(frozen=True)
class Judged:
    """A judged batch: per rule the failing rows, its profile summary, and the split."""

    batch: Batch
    flags: list[pa.Array]
    profile: BatchProfile
    passing: pa.RecordBatch
    rejected: pa.RecordBatch | None
    """The failing rows with their ``_ferry_reason``; None when every row passed."""


class Judge:
    """Judges one batch at a time per cursor; call :meth:`close` when done."""

    def __init__(
        self,
        con: "duckdb.DuckDBPyConnection",
        evaluator: BatchEvaluator,
        profiler: Profiler,
        workers: int = WORKERS,
    ) -> None:
        self._evaluator = evaluator
        self._profiler = profiler
        self._all = [con.cursor() for _ in range(workers)]
        self._free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for cursor in self._all:
            self._free.put(cursor)

    def __call__(self, item: Batch) -> Judged:
        """Evaluate the rules on ``item``, summarize its profile, split it by the result."""
        cursor = self._free.get()
        try:
            hashed = self._profiler.hashed_now()
            flags, hashes = self._evaluator.flags(
                cursor, item.rows, item.start, item.unique_flags, hashed
            )
            profile = self._profiler.summarize(
                item.rows, hashes, lambda values: self._evaluator.hash_values(cursor, values)
            )
        finally:
            self._free.put(cursor)
        failed, reasons = self._evaluator.reasons(flags, item.rows.num_rows)
        passing = item.rows.filter(pc.invert(failed))
        rejected = (
            item.rows.filter(failed).append_column(REASON_COLUMN, reasons) if len(reasons) else None
        )
        return Judged(item, flags, profile, passing, rejected)

    def close(self) -> None:
        """Close the cursors (the step's connection stays open)."""
        for cursor in self._all:
            cursor.close()
