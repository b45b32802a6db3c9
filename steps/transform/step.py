"""The ``transform`` step: DuckDB SQL over the inputs, streamed into the output artifact.

Each input becomes a view named after it. A local artifact is read by DuckDB's
own Parquet reader over exactly the files its manifest lists; an S3 artifact is
scanned through its pyarrow dataset, so no DuckDB extension (httpfs) is needed.
The result streams out in record batches while DuckDB keeps to its memory limit,
spilling to the temp folder beyond it.

Row accounting: a transform rejects nothing and its output is not row-for-row
its input, so ``rows_in = rows_out =`` the result's rows; the inputs' row counts
are logged (event ``transform_inputs``).
"""

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.context import StepContext
from steps.runtime.duckdb_session import connect, one_line, quote_identifier, quote_literal
from steps.runtime.errors import DataRejected, StepError, StepUsageError
from steps.transform.config import TransformConfig

if TYPE_CHECKING:
    import duckdb


def table_alias(name: str) -> str:
    """The convenience alias of an input name: every character outside ``[A-Za-z0-9_]`` as ``_``."""
    return re.sub(r"\W", "_", name, flags=re.ASCII)


@contextmanager
def _spill_folder(configured: str | None) -> Iterator[str]:
    if configured is not None:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="ferry-transform-") as folder:
        yield folder


def _register_inputs(con: "duckdb.DuckDBPyConnection", readers: list[ArtifactReader]) -> str:
    """Create one view per input (and its alias); return the tables for error messages."""
    names = {r.name for r in readers}
    described = []
    for index, reader in enumerate(readers):
        if reader.is_local:
            files = ", ".join(quote_literal(p) for p in reader.paths())
            source = f"read_parquet([{files}])"
        else:
            source = f"__ferry_input_{index}"
            con.register(source, reader.dataset())
        views = [reader.name]
        alias = table_alias(reader.name)
        if alias not in names and alias != reader.name:
            views.append(alias)
        for view in views:
            con.execute(f"CREATE TEMP VIEW {quote_identifier(view)} AS SELECT * FROM {source}")
        shown = quote_identifier(reader.name)
        described.append(shown if len(views) == 1 else f"{shown} (alias {views[1]})")
    return ", ".join(described)


def _check_ends_with_query(con: "duckdb.DuckDBPyConnection", sql: str) -> None:
    """Refuse SQL whose last statement returns no rows (CREATE, INSERT, ...)."""
    import duckdb

    statements = con.extract_statements(sql)
    last = statements[-1].type if statements else None
    if last not in (duckdb.StatementType.SELECT, duckdb.StatementType.MULTI):
        kind = last.name if last is not None else "empty"
        raise StepUsageError(
            f"the SQL must end with a query (SELECT ...) whose rows are the output; its last "
            f"statement is {kind}; fix the SQL"
        )


def run(ctx: StepContext, config: TransformConfig) -> RowCounts:
    """Run the SQL over the inputs and write its result as this step's artifact."""
    import duckdb

    if not ctx.inputs:
        raise StepUsageError("a transform needs at least one --input NAME=URI")
    readers = [ctx.read_input(name) for name in ctx.inputs]
    ctx.log.event("transform_inputs", rows={r.name: r.rows for r in readers})
    with _spill_folder(config.temp_directory) as spill:
        try:
            con = connect(
                memory_limit=config.memory_limit, temp_directory=spill, threads=config.threads
            )
        except duckdb.Error as err:
            raise StepUsageError(
                f"DuckDB rejects the settings: {one_line(err)}; fix memory_limit, threads or "
                "temp_directory"
            ) from None
        try:
            tables = _register_inputs(con, readers)
            try:
                _check_ends_with_query(con, config.sql)
                result = con.sql(config.sql)
            except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as err:
                raise StepUsageError(
                    f"the SQL is invalid: {one_line(err)}; tables: {tables}; fix the SQL"
                ) from None
            writer = ctx.artifact_writer()
            stream = result.to_arrow_reader(config.batch_size)
            for batch in stream:
                writer.write(batch)
            schema = stream.schema
        except duckdb.Error as err:
            failure = DataRejected if isinstance(err, duckdb.DataError) else StepError
            raise failure(
                f"the SQL failed while running: {one_line(err)}; fix the SQL or the data, or raise "
                "memory_limit"
            ) from None
        finally:
            con.close()
    writer.commit(schema=schema)
    return RowCounts(rows_in=writer.rows, rows_out=writer.rows)
