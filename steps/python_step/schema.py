"""Hold every batch a function yields to one schema, or fail naming the column.

The schema is the declared ``columns`` when the config has them (each batch is cast
to it, safely), else the first batch's; either way every later batch must have the
same columns with the same types. Columns in another order are put in order (no
value changes); anything else is the function's code being wrong and fails the step
with one line naming the column. Nothing is ever cast implicitly to an inferred
schema: a function whose types vary declares ``columns`` to have them cast.
"""

import pyarrow as pa
import pyarrow.compute as pc

from steps.runtime.column_types import type_label
from steps.runtime.errors import DataRejected, StepUsageError


def _columns(names: list[str]) -> str:
    return ", ".join(names) or "none"


class StreamSchema:
    """The schema of one stream of batches (the output, or the rejected rows)."""

    def __init__(self, what: str, where: str, declared: pa.Schema | None = None) -> None:
        """``what`` names the stream in messages; ``where`` names the function."""
        self.what = what
        self.where = where
        self.declared = declared
        self.schema: pa.Schema | None = declared

    def _fail(self, problem: str, fix: str) -> StepUsageError:
        return StepUsageError(f"{self.where} yielded {self.what} {problem}; {fix}")

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with exactly this stream's columns and types; else fail naming the column."""
        names = batch.schema.names
        if not names:
            raise self._fail("with no columns", "yield batches with at least one column")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise self._fail(f"with two columns named {name!r}", "give each column its name")
            seen.add(name)
        if self.schema is None:  # the first batch sets the schema: nullable, no metadata
            self.schema = pa.schema([pa.field(f.name, f.type) for f in batch.schema])
            return pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
        expected = self.schema.names
        if self.declared is not None:
            origin = "columns declares"
            fix = "yield exactly the declared columns, or change columns"
        else:
            origin = f"the first {self.what} batch had"
            fix = (
                f"yield the same columns in every batch, or declare columns ({_columns(expected)})"
            )
        for name in expected:
            if name not in seen:
                raise self._fail(
                    f"without column {name!r}, which {origin} (columns: {_columns(expected)})", fix
                )
        for name in names:
            if name not in expected:
                raise self._fail(
                    f"with column {name!r}, which is not one {origin} (columns: "
                    f"{_columns(expected)})",
                    fix,
                )
        arrays = [self._column(batch, field) for field in self.schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _column(self, batch: pa.RecordBatch, field: pa.Field) -> pa.Array:
        column = batch.column(field.name)
        if column.type == field.type:
            return column
        got, want = type_label(column.type), type_label(field.type)
        if self.declared is None:
            raise self._fail(
                f"with column {field.name!r} of type {got}, but the first {self.what} batch had "
                f"{want}",
                "yield the same types in every batch, or declare columns to have them cast",
            )
        try:
            return pc.cast(column, field.type, safe=True)
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise self._fail(
                f"with column {field.name!r} of type {got}, which cannot be cast to the declared "
                f"{want}",
                "fix the function or the declared type",
            ) from None
        except pa.ArrowInvalid as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else "invalid value"
            raise DataRejected(
                f"{self.where} yielded {self.what} whose column {field.name!r} ({got}) has a "
                f"value that does not fit the declared {want}: {first}; fix the function, the "
                "data or the declared type"
            ) from None
