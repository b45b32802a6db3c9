"""Column profiles gathered while the check streams its input, in bounded memory.

Per column: nulls, an estimate of the distinct values, min and max (numbers, dates,
times), the mean (numbers), and the most frequent values of short, few-valued
strings. Everything is updated batch by batch from the batches the check already
reads, so profiling never reads the input a second time.

The distinct estimate is a k-minimum-values sketch over DuckDB's 64-bit ``hash`` of
each value (computed in the same query that evaluates the rules): it keeps the
``SKETCH_SIZE`` smallest distinct hashes, so it is exact up to that many distinct
values and within about 1/sqrt(SKETCH_SIZE) (1.6%) beyond. After the first batches
almost no hash is below the kept maximum, so a batch costs one vectorised compare
per column.
"""

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

    def add(self, column: pa.Array, hashes: pa.Array | None) -> None:
        self.nulls += column.null_count
        if column.null_count == len(column):
            return
        if self.top is not None:
            self._count(column)
        if self.top is None:  # a column whose values are all counted needs no sketch
            if hashes is None:
                self.distinct.add(number_hashes(column))
            else:
                valid = pc.filter(hashes, pc.is_valid(column)) if column.null_count else hashes
                self.distinct.add(valid.to_numpy(zero_copy_only=False))
        if self.kind in ("number", "temporal"):
            bounds = pc.min_max(column)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            self.low = low if self.low is None else min(self.low, low)  # type: ignore[call-overload]
            self.high = high if self.high is None else max(self.high, high)  # type: ignore[call-overload]
        if self.kind == "number":
            self.total += float(pc.sum(column, min_count=1).cast(pa.float64()).as_py() or 0.0)

    def _count(self, column: pa.Array) -> None:
        assert self.top is not None
        counts = pc.value_counts(column)
        if len(counts) > TOP_TRACKED:
            self._stop_counting()
            return
        values = counts.field("values").to_pylist()
        if any(value is not None and len(value) > TOP_VALUE_LENGTH for value in values):
            self._stop_counting()
            return
        for value, count in zip(values, counts.field("counts").to_pylist(), strict=True):
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


class Profiler:
    """The profile of every column of the input, updated batch by batch."""

    def __init__(self, schema: pa.Schema) -> None:
        self._columns = [_ColumnProfile(f.name, f.type) for f in schema]
        self.rows = 0

    @property
    def hashed_columns(self) -> list[str]:
        """The columns whose DuckDB ``hash`` per row :meth:`add` needs, in input order."""
        return [c.name for c in self._columns if c.hashed_by_duckdb]

    def add(self, batch: pa.RecordBatch, hashes: list[pa.Array]) -> None:
        """Count one batch; ``hashes`` holds DuckDB's ``hash`` of each of ``hashed_columns``."""
        self.rows += batch.num_rows
        given = iter(hashes)
        for profile, values in zip(self._columns, batch.columns, strict=True):
            profile.add(values, next(given) if profile.hashed_by_duckdb else None)

    def to_dict(self) -> dict[str, Any]:
        """The profile as the quality report holds it."""
        return {"rows": self.rows, "columns": [c.to_dict(self.rows) for c in self._columns]}
