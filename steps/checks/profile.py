"""Column profiles gathered while the check streams its input, in bounded memory.

Per column: nulls, an estimate of the distinct values, min and max (numbers, dates,
times), the mean (numbers), and the most frequent values of short, few-valued
strings. Everything is updated batch by batch from the batches the check already
reads, so profiling never reads the input a second time. The costly part of a batch
(value counts, hashes, bounds) is summarized on the worker thread that judged it;
the summaries are merged in input order, so the result does not depend on threads.

The distinct estimate is a k-minimum-values sketch over DuckDB's 64-bit ``hash`` of
each value (computed in the same query that evaluates the rules; a text column
whose values are still counted hashes only its batch's distinct values): it keeps the
``SKETCH_SIZE`` smallest distinct hashes, so it is exact up to that many distinct
values and within about 1/sqrt(SKETCH_SIZE) (1.6%) beyond. After the first batches
almost no hash is below the kept maximum, so a batch costs one vectorised compare
per column.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steps.runtime.column_types import type_label

SKETCH_SIZE = 4096
"""Smallest distinct hashes kept per column: the distinct estimate's precision."""

TOP_VALUES = 5
"""Most frequent values reported per string column."""

TOP_TRACKED = 1000
"""Distinct values counted per string column; beyond, the column has no top values."""

TOP_VALUE_LENGTH = 64
"""Longest string (characters) whose column gets top values."""

_HASH_SPACE = float(2**64)

HashValues = Callable[[pa.Array], np.ndarray]
"""DuckDB's 64-bit ``hash`` of each value of an array (as the batch query computes it)."""


def _kind(arrow: pa.DataType) -> str:
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_temporal(arrow):
        return "temporal"
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "string"
    return "other"


def _json_value(value: object) -> object:
    """A min/max as JSON holds it: numbers as they are, dates and times as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: 64 well-spread bits from each 64-bit value."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64, copy=True)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def number_hashes(column: pa.Array) -> np.ndarray:
    """64-bit hashes of a number, date or time column's non-null values (NumPy, no DuckDB)."""
    values = pc.drop_null(column) if column.null_count else column
    if pa.types.is_floating(values.type):
        bits = values.cast(pa.float64()).to_numpy(zero_copy_only=False) + 0.0  # -0.0 is 0.0
        return _mix(bits.view(np.uint64))
    if pa.types.is_date(values.type) or pa.types.is_time(values.type):
        values = values.cast(pa.int32() if values.type.bit_width == 32 else pa.int64())
    ints = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return _mix(ints.view(np.uint64))


@dataclass
class _DistinctSketch:
    """The ``SKETCH_SIZE`` smallest distinct 64-bit hashes seen."""

    kept: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))

    def new_candidates(self, hashes: np.ndarray) -> np.ndarray:
        """Of a batch's hashes, the ones that may still change the sketch: sorted, distinct.

        Safe on a worker thread with a sketch that is merged into meanwhile: hashes
        at or above the largest kept one, or kept already, could only be dropped by
        the merge (the kept set only loses hashes larger than its new bound). Only the
        batch's ``SKETCH_SIZE`` smallest can enter; a column of a few thousand values,
        whose hashes are mostly kept already, hands over almost none of them.
        """
        kept = self.kept
        if len(kept) == SKETCH_SIZE:
            hashes = hashes[hashes < kept[-1]]
        # distinct (by hashing: a few-valued column repeats its values) and sorted, so the
        # search below walks ``kept`` in order: a quarter of the time of searching them all
        hashes = np.sort(pc.unique(pa.array(hashes, pa.uint64())).to_numpy(zero_copy_only=False))
        if len(kept) and len(hashes):
            at = np.minimum(np.searchsorted(kept, hashes), len(kept) - 1)
            hashes = hashes[kept[at] != hashes]
        return hashes[:SKETCH_SIZE]

    def add(self, hashes: np.ndarray) -> None:
        if len(self.kept) == SKETCH_SIZE:
            hashes = hashes[hashes < self.kept[-1]]
        if not len(hashes):
            return
        merged = np.concatenate([self.kept, hashes])
        merged.sort()
        distinct = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
        self.kept = distinct[:SKETCH_SIZE]

    def estimate(self) -> int:
        if len(self.kept) < SKETCH_SIZE:
            return len(self.kept)
        return round((SKETCH_SIZE - 1) / ((float(self.kept[-1]) + 1.0) / _HASH_SPACE))


@dataclass
class _BatchPart:
    """One batch's contribution to one column's profile (see ``summarize``)."""

    nulls: int
    valued: bool = False
    """Whether the batch holds a value in this column (else only ``nulls`` counts)."""
    counts: list[tuple[Any, int]] | None = None
    candidates: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    """Hashes of the batch's values that may enter the distinct sketch."""
    low: object = None
    high: object = None
    total: float = 0.0


@dataclass
class _ColumnProfile:
    name: str
    arrow: pa.DataType
    nulls: int = 0
    low: object = None
    high: object = None
    total: float = 0.0
    distinct: _DistinctSketch = field(default_factory=_DistinctSketch)
    top: dict[str, int] | None = None

    def __post_init__(self) -> None:
        self.kind = _kind(self.arrow)
        if self.kind == "string":
            self.top = {}

    @property
    def hashed_by_duckdb(self) -> bool:
        """Whether the distinct sketch needs DuckDB's ``hash`` (text and other values)."""
        return self.kind not in ("number", "temporal") or pa.types.is_decimal(self.arrow)

    @property
    def counting(self) -> bool:
        """Whether the column's values are still counted (text columns, until too many)."""
        return self.top is not None

    def summarize(
        self, column: pa.Array, hashes: pa.Array | None, hash_values: "HashValues"
    ) -> "_BatchPart":
        """What one batch adds to this column's profile; safe on a worker thread.

        ``hashes``: DuckDB's ``hash`` of every row, given for text and other columns
        that were no longer counted when the batch's query was made; a column still
        counted has its distinct values hashed instead (``hash_values``), a few
        instead of every row. It reads two things that :meth:`merge` changes, both
        only ever in one direction: whether values are still counted (counting only
        stops) and the sketch's largest kept hash (it only falls). A stale read makes
        a part carry more than :meth:`merge` uses, never less, so the profile is the
        same as if every batch were added in order on one thread.
        """
        nulls = column.null_count
        if nulls == len(column):
            return _BatchPart(nulls=nulls)
        counted = hashes is None and self.hashed_by_duckdb
        counts = self._value_counts(column) if self.counting or counted else None
        if not self.hashed_by_duckdb:
            candidates = number_hashes(column)
        elif hashes is not None:
            valid = pc.filter(hashes, pc.is_valid(column)) if nulls else hashes
            candidates = valid.to_numpy(zero_copy_only=False)
        elif counts is not None:  # the same distinct hashes as every row's, from a few values
            candidates = hash_values(pa.array([v for v, _ in counts if v is not None], column.type))
        else:  # too many values to count: counting stops with this batch
            candidates = hash_values(pc.drop_null(column) if nulls else column)
        candidates = self.distinct.new_candidates(candidates)
        part = _BatchPart(nulls=nulls, valued=True, counts=counts, candidates=candidates)
        if self.kind in ("number", "temporal"):
            bounds = pc.min_max(column)
            part.low, part.high = bounds["min"].as_py(), bounds["max"].as_py()
        if self.kind == "number":
            part.total = float(pc.sum(column, min_count=1).cast(pa.float64()).as_py() or 0.0)
        return part

    def merge(self, part: "_BatchPart") -> None:
        """Add one batch's part; parts must come in input order."""
        self.nulls += part.nulls
        if not part.valued:
            return
        if self.top is not None:
            self._count(part.counts)
        if self.top is None:  # a column whose values are all counted needs no sketch
            self.distinct.add(part.candidates)
        if self.kind in ("number", "temporal"):
            low, high = part.low, part.high
            self.low = low if self.low is None else min(self.low, low)  # type: ignore[call-overload]
            self.high = high if self.high is None else max(self.high, high)  # type: ignore[call-overload]
        if self.kind == "number":
            self.total += part.total

    @staticmethod
    def _value_counts(column: pa.Array) -> list[tuple[Any, int]] | None:
        """The batch's values with their counts; None when there are too many to track."""
        counts = pc.value_counts(column)
        if len(counts) > TOP_TRACKED:
            return None
        values = counts.field("values").to_pylist()
        return list(zip(values, counts.field("counts").to_pylist(), strict=True))

    def _count(self, counts: list[tuple[Any, int]] | None) -> None:
        assert self.top is not None
        if counts is None:
            self._stop_counting()
            return
        if any(value is not None and len(value) > TOP_VALUE_LENGTH for value, _ in counts):
            self._stop_counting()
            return
        for value, count in counts:
            if value is not None:
                self.top[value] = self.top.get(value, 0) + count
        if len(self.top) > TOP_TRACKED:
            self._stop_counting()

    def _stop_counting(self) -> None:
        """Too many or too long values to count: the sketch takes over the distinct values.

        The values counted so far did not go to the sketch; a later batch's hashes
        carry on from nothing, so the estimate misses only values seen solely in the
        counted batches (at most ``TOP_TRACKED``).
        """
        self.top = None

    def to_dict(self, rows: int) -> dict[str, Any]:
        valued = rows - self.nulls
        entry: dict[str, Any] = {
            "name": self.name,
            "type": type_label(self.arrow),
            "nulls": self.nulls,
            "null_share": round(self.nulls / rows, 6) if rows else 0.0,
            "distinct_estimate": (
                len(self.top) if self.top is not None else self.distinct.estimate()
            ),
        }
        if self.kind in ("number", "temporal"):
            entry["min"] = _json_value(self.low)
            entry["max"] = _json_value(self.high)
        if self.kind == "number":
            entry["mean"] = self.total / valued if valued else None
        if self.kind == "string":
            top = sorted((self.top or {}).items(), key=lambda item: (-item[1], item[0]))
            entry["top_values"] = (
                [{"value": v, "count": c} for v, c in top[:TOP_VALUES]]
                if self.top is not None
                else None
            )
        return entry


@dataclass(frozen=True)
class BatchProfile:
    """One batch's rows and per column its part of the profile."""

    rows: int
    parts: list[_BatchPart]


class Profiler:
    """The profile of every column of the input, updated batch by batch."""

    def __init__(self, schema: pa.Schema) -> None:
        self._columns = [_ColumnProfile(f.name, f.type) for f in schema]
        self.rows = 0

    @property
    def hashed_columns(self) -> list[str]:
        """The columns whose DuckDB ``hash`` per row a batch may need, in input order."""
        return [c.name for c in self._columns if c.hashed_by_duckdb]

    def hashed_now(self) -> list[str]:
        """Of :attr:`hashed_columns`, those whose rows the next batch must hash: not counted."""
        return [c.name for c in self._columns if c.hashed_by_duckdb and not c.counting]

    def summarize(
        self, batch: pa.RecordBatch, hashes: dict[str, pa.Array], hash_values: "HashValues"
    ) -> "BatchProfile":
        """What one batch adds to the profile, computed on the calling (worker) thread.

        ``hashes``: DuckDB's ``hash`` per row of (at least) the columns
        :meth:`hashed_now` named before the batch was queried; ``hash_values`` hashes
        other values the same way (the distinct values of counted columns).
        """
        parts = [
            profile.summarize(values, hashes.get(profile.name), hash_values)
            for profile, values in zip(self._columns, batch.columns, strict=True)
        ]
        return BatchProfile(batch.num_rows, parts)

    def merge(self, batch: "BatchProfile") -> None:
        """Add a batch's summary; summaries must be merged in input order."""
        self.rows += batch.rows
        for profile, part in zip(self._columns, batch.parts, strict=True):
            profile.merge(part)

    def add(
        self, batch: pa.RecordBatch, hashes: dict[str, pa.Array], hash_values: "HashValues"
    ) -> None:
        """Count one batch on this thread: :meth:`summarize` then :meth:`merge`."""
        self.merge(self.summarize(batch, hashes, hash_values))

    def to_dict(self) -> dict[str, Any]:
        """The profile as the quality report holds it."""
        return {"rows": self.rows, "columns": [c.to_dict(self.rows) for c in self._columns]}
