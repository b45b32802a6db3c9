"""The ``python`` step: call a user's function on the inputs' batches, write what it yields.

The function gets one iterator per input, in the order of ``inputs``, each reading
its artifact lazily, one record batch at a time, only when the function asks for the
next one; what the function yields is written to the artifact as it comes. Nothing
collects a whole input or the whole output, so the step's memory is bounded by the
batches the function itself holds, whatever the input size.

Exit codes: the function's code being wrong (a bad spec or signature, a yielded
object that is not a batch, a batch whose schema differs) is exit 2; a value that
does not fit a declared column is exit 3; an exception the function raises is exit
1 (it may be transient: a service the function calls), with its traceback on
stderr, unless it is a Ferry step error, which keeps its own code (``DataRejected``
exit 3).

Row accounting: the output is not row-for-row the input, so ``rows_in`` is the rows
the function read from its inputs (``input_rows`` per input, also logged as event
``python_inputs`` and stored in the manifest as ``rows_read``), ``rows_out`` the rows
it wrote and ``rows_rejected`` the rows it rejected.
"""

import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from steps.python_step.config import PythonStepConfig
from steps.python_step.function import UserFunction, load_function
from steps.python_step.rejected import Rejected
from steps.python_step.schema import StreamSchema
from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import REASON_COLUMN, ArtifactReader, ArtifactWriter
from steps.runtime.context import StepContext
from steps.runtime.errors import StepError, StepUsageError


def _one_line(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text.splitlines()[0]


class InputBatches(Iterator[pa.RecordBatch]):
    """One input's record batches, read from its artifact only as they are asked for."""

    def __init__(self, reader: ArtifactReader, batch_size: int) -> None:
        self.name = reader.name
        """The input's name (the upstream step)."""
        self.rows_read = 0
        """Rows handed to the function so far."""
        self._reader = reader
        self._batch_size = batch_size
        self._source: Iterator[pa.RecordBatch] | None = None

    @property
    def schema(self) -> pa.Schema:
        """The input's Arrow schema (from its first file's footer; reads no rows)."""
        return self._reader.schema

    def __iter__(self) -> "InputBatches":
        return self

    def __next__(self) -> pa.RecordBatch:
        if self._source is None:
            self._source = self._reader.batches(self._batch_size)
        try:
            batch = next(self._source)
        except (StopIteration, StepError):
            raise
        except Exception as err:
            raise StepError(
                f"reading input {self.name!r} at {self._reader.loc.uri} failed: "
                f"{_one_line(err)}; rerun the step, or the upstream step if its files are damaged"
            ) from err
        self.rows_read += batch.num_rows
        return batch

    def close(self) -> None:
        """Stop reading: close the open file, if any."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


def _open_inputs(ctx: StepContext, config: PythonStepConfig) -> list[ArtifactReader]:
    extra = [name for name in ctx.inputs if name not in config.inputs]
    if extra:
        raise StepUsageError(
            f"--input {extra[0]!r} is not one of the config's inputs ({', '.join(config.inputs)}); "
            "list it in inputs or drop the --input"
        )
    return [ctx.read_input(name) for name in config.inputs]


def _type_name(item: object) -> str:
    kind = type(item)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


_YIELDABLE = "yield pyarrow.RecordBatch, pyarrow.Table or Rejected items"


class _Output:
    """Routes what the function yields: batches to data, ``Rejected`` to quarantine."""

    def __init__(self, writer: ArtifactWriter, config: PythonStepConfig, where: str) -> None:
        self._writer = writer
        self._batch_size = config.batch_size
        self._where = where
        self.data = StreamSchema("output", where, config.declared_schema())
        self.rejected = StreamSchema("rejected rows", where)

    def _batches(self, rows: pa.RecordBatch | pa.Table) -> Iterator[pa.RecordBatch]:
        """``rows`` as batches of at most ``batch_size`` rows (zero-copy slices); one when empty."""
        if isinstance(rows, pa.Table):
            batches = rows.to_batches(max_chunksize=self._batch_size)
            yield from batches or [_empty(rows.schema)]
            return
        if rows.num_rows <= self._batch_size:
            yield rows
            return
        for offset in range(0, rows.num_rows, self._batch_size):
            yield rows.slice(offset, self._batch_size)

    def take(self, item: object) -> None:
        if isinstance(item, Rejected):
            self._reject(item)
        elif isinstance(item, pa.RecordBatch | pa.Table):
            for batch in self._batches(item):
                self._write(self._writer.write, self.data.conform(batch))
        else:
            hint = " (convert it with pyarrow.RecordBatch.from_pandas)" if _is_frame(item) else ""
            raise StepUsageError(f"{self._where} yielded a {_type_name(item)}{hint}; {_YIELDABLE}")

    def _reject(self, item: Rejected) -> None:
        if not isinstance(item.rows, pa.RecordBatch | pa.Table):
            raise StepUsageError(
                f"{self._where} yielded a Rejected whose rows are a {_type_name(item.rows)}; give "
                "Rejected a pyarrow.RecordBatch or pyarrow.Table"
            )
        if not isinstance(item.reason, str) or not item.reason.strip():
            raise StepUsageError(
                f"{self._where} yielded a Rejected without a reason ({item.reason!r}); give "
                "Rejected(rows, reason='why') a non-empty text"
            )
        if REASON_COLUMN in item.rows.schema.names:
            raise StepUsageError(
                f"{self._where} yielded a Rejected whose rows have a {REASON_COLUMN!r} column; "
                "the step adds it from reason: drop the column"
            )
        for batch in self._batches(item.rows):
            rows = self.rejected.conform(batch)
            reasons = pa.repeat(pa.scalar(item.reason, pa.string()), rows.num_rows)
            self._write(self._writer.quarantine, rows.append_column(REASON_COLUMN, reasons))

    def _write(self, write: Any, batch: pa.RecordBatch) -> None:
        try:
            write(batch)
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
            raise StepUsageError(
                f"{self._where} yielded columns Parquet cannot store: {_one_line(err)}; yield "
                "types Parquet supports"
            ) from None


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _is_frame(item: object) -> bool:
    return type(item).__name__ == "DataFrame"


def _items(
    function: UserFunction, inputs: list[InputBatches], params: dict[str, Any]
) -> Iterator[object]:
    """What the function yields; its own exceptions become one-line step errors."""
    where = f"function {function.spec!r}"
    try:
        result = function.call(list(inputs), params)
    except StepError:
        raise
    except Exception as err:
        raise _raised(where, err) from err
    if isinstance(result, pa.RecordBatch | pa.Table | Rejected):
        raise StepUsageError(
            f"{where} returned a {_type_name(result)} instead of yielding it; use yield (the "
            "function must be a generator or return an iterable)"
        )
    if not isinstance(result, Iterable) or isinstance(result, str | bytes | dict):
        raise StepUsageError(
            f"{where} returned a {_type_name(result)}, not an iterable; {_YIELDABLE}"
        )
    iterator = iter(result)
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except StepError:
                raise
            except Exception as err:
                raise _raised(where, err) from err
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _raised(where: str, err: Exception) -> StepError:
    traceback.print_exception(err, file=sys.stderr)
    return StepError(
        f"{where} raised {_one_line(err)}; fix the function or its input (traceback above)"
    )


def run(ctx: StepContext, config: PythonStepConfig) -> RowCounts:
    """Run the configured function over the inputs and commit what it yields."""
    try:
        function = load_function(
            config.function, len(config.inputs), has_params=bool(config.params)
        )
    except ValueError as err:
        raise StepUsageError(str(err)) from None
    readers = _open_inputs(ctx, config)
    writer = ctx.artifact_writer()
    output = _Output(writer, config, f"function {config.function!r}")
    inputs = [InputBatches(reader, config.batch_size) for reader in readers]
    try:
        for item in _items(function, inputs, config.call_params()):
            output.take(item)
    finally:
        for batches in inputs:
            batches.close()
    rows_read = {batches.name: batches.rows_read for batches in inputs}
    ctx.log.event(
        "python_inputs",
        function=config.function,
        rows=rows_read,
        rows_available={reader.name: reader.rows for reader in readers},
    )
    writer.commit(schema=output.data.schema, rows_read=rows_read)
    return RowCounts(
        rows_in=sum(rows_read.values()),
        rows_out=writer.rows,
        rows_rejected=writer.rejected,
        preserving=False,
        input_rows=rows_read,
    )
