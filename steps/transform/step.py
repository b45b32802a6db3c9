"""The ``transform`` step: DuckDB SQL over the inputs, streamed into the output artifact.

Each input becomes a view named after it. A local artifact is read by DuckDB's
own Parquet reader over exactly the files its manifest lists; an S3 artifact is
scanned through its pyarrow dataset, so no DuckDB extension (httpfs) is needed.
DuckDB writes the result as Parquet itself, with all its threads and within its
memory limit (spilling to the temp folder beyond it), into a staging folder whose
files the artifact then adopts: renamed into place locally, uploaded to S3. No row
passes through Python, so the step costs little more than DuckDB alone.

Row order: without ``ORDER BY`` DuckDB may write rows in any order, several files
at once (much less memory and time); ``keep_order`` keeps the input's order. A
top-level ``ORDER BY`` is always kept; an ordered result is written as one file.

Row accounting: a transform rejects nothing and its output is not row-for-row
its input, so ``rows_in`` is the rows of all its inputs (``input_rows`` per input,
also logged as event ``transform_inputs``) and ``rows_out`` the result's rows.
"""

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from steps.runtime.accounting import RowCounts
from steps.runtime.artifact_compression import duckdb_codec
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.context import StepContext
from steps.runtime.duckdb_session import (
    connect,
    one_line,
    parse_tree,
    quote_identifier,
    quote_literal,
)
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


def _split_statements(
    con: "duckdb.DuckDBPyConnection", sql: str
) -> tuple[list["duckdb.Statement"], "duckdb.Statement"]:
    """The leading statements and the last one, which must return rows (a query)."""
    import duckdb

    statements = con.extract_statements(sql)
    last = statements[-1].type if statements else None
    if last not in (duckdb.StatementType.SELECT, duckdb.StatementType.MULTI):
        kind = last.name if last is not None else "empty"
        raise StepUsageError(
            f"the SQL must end with a query (SELECT ...) whose rows are the output; its last "
            f"statement is {kind}; fix the SQL"
        )
    return statements[:-1], statements[-1]


_NON_PORTABLE_TYPES = {
    "hugeint": "DECIMAL(38,0)",
    "uhugeint": "DECIMAL(38,0)",
    "uuid": "VARCHAR",
    "interval": "VARCHAR",
}
"""DuckDB types its Parquet writer stores lossily or as a type other engines misread:
128-bit integers (e.g. ``sum`` of BIGINT) would become DOUBLE, UUIDs 16 raw bytes,
intervals 12 raw bytes (pyarrow and the steps after a transform read them as binary).
They are written as DECIMAL(38,0) and text (``1 day 02:00:00``, which casts back)."""


def portable_type(column_type: "duckdb.sqltypes.DuckDBPyType") -> str | None:
    """The type to write ``column_type`` as, or None when it is written as it is.

    Walks nested types (LIST, ARRAY, MAP, STRUCT, UNION) through DuckDB's own type
    tree, so a STRUCT field that happens to be named ``uuid`` keeps its name.
    """
    from duckdb.sqltypes import DuckDBPyType

    kind = column_type.id
    if kind in _NON_PORTABLE_TYPES:
        return _NON_PORTABLE_TYPES[kind]
    if kind not in ("list", "array", "map", "struct", "union"):
        return None
    members = [(n, child) for n, child in column_type.children if isinstance(child, DuckDBPyType)]
    if kind == "union":
        members = members[1:]  # the first member is the union's tag
    written = [(name, child, portable_type(child)) for name, child in members]
    if all(new is None for _, _, new in written):
        return None
    parts = [str(child) if new is None else new for _, child, new in written]
    if kind == "list":
        return f"{parts[0]}[]"
    if kind == "array":
        return f"{parts[0]}[{column_type.children[1][1]}]"
    if kind == "map":
        return f"MAP({parts[0]}, {parts[1]})"
    fields = ", ".join(
        f"{quote_identifier(name)} {part}"
        for (name, _, _), part in zip(written, parts, strict=True)
    )
    return f"{kind.upper()}({fields})"


_RESULT_VIEW = "__ferry_result"


def _output_query(
    con: "duckdb.DuckDBPyConnection", result: "duckdb.DuckDBPyRelation"
) -> tuple[str, str]:
    """The query to write out and its schema as ``name: TYPE`` lines.

    The result is exposed as a view; columns of non-portable types are cast
    (``SELECT * REPLACE``), so the Parquet file says what the SQL meant.
    """
    seen: set[str] = set()
    for column in result.columns:
        if column.lower() in seen:
            raise StepUsageError(
                f"the SQL returns two columns named {column!r}; give each a distinct alias "
                "(... AS name); fix the SQL"
            )
        seen.add(column.lower())
    result.create_view(_RESULT_VIEW)
    casts = []
    for column, column_type in zip(result.columns, result.types, strict=True):
        written = portable_type(column_type)
        if written is not None:
            name = quote_identifier(column)
            casts.append(f"CAST({name} AS {written}) AS {name}")
    if not casts:
        query, final = f"SELECT * FROM {_RESULT_VIEW}", result
    else:
        query = f"SELECT * REPLACE ({', '.join(casts)}) FROM {_RESULT_VIEW}"
        final = con.sql(query)
    schema_text = "\n".join(
        f"{column}: {column_type}"
        for column, column_type in zip(final.columns, final.types, strict=True)
    )
    return query, schema_text


def _has_order_by(con: "duckdb.DuckDBPyConnection", query: str) -> bool:
    """Whether ``query`` ends in a top-level ORDER BY (read from DuckDB's own parse tree).

    A query DuckDB cannot serialise counts as ordered: the slower, order-keeping
    write is always correct.
    """
    tree = parse_tree(con, query)
    if tree is None:
        return True
    modifiers: list[dict[str, Any]] = tree["statements"][0]["node"].get("modifiers", [])
    return any(m.get("type") == "ORDER_MODIFIER" for m in modifiers)


def _write_parquet(
    con: "duckdb.DuckDBPyConnection",
    query: str,
    folder: str,
    *,
    ordered: bool,
    config: TransformConfig,
    compression: str,
) -> tuple[int, list[str]]:
    """Let DuckDB write the query's rows as Parquet files into ``folder``; rows and files.

    When the order does not matter DuckDB writes files of about ``rows_per_file``
    rows with all threads at once. DuckDB drops row order when it splits its output
    into files, so an ordered result (``ORDER BY``, ``keep_order``) goes to one file.
    """
    options = (
        f"FORMAT parquet, COMPRESSION {duckdb_codec(compression)}, "
        f"ROW_GROUP_SIZE {config.row_group_size}, RETURN_FILES true"
    )
    if ordered:
        target = os.path.join(folder, "result.parquet")
    else:
        target = folder
        options += f", ROW_GROUPS_PER_FILE {max(1, config.rows_per_file // config.row_group_size)}"
    copied = con.execute(f"COPY ({query}) TO {quote_literal(target)} ({options})").fetchone()
    assert copied is not None
    rows, files = copied
    return int(rows), [str(f) for f in files]


def _running_failure(err: "duckdb.Error") -> StepError:
    """A failure while the SQL runs, classified so that only what may pass is retried.

    Bad values (a cast that fails, an overflow, an integer division by zero) fail the
    same way on the same data: exit 3. A SQL error DuckDB finds only while running
    (an unsupported feature, a wrong argument) is the SQL's: exit 2. Running out of
    memory or disk, and anything unexpected, may pass on a retry: exit 1.
    """
    import duckdb

    message = one_line(err)
    if isinstance(err, duckdb.DataError | duckdb.InvalidInputException):
        return DataRejected(f"the SQL failed on the data: {message}; fix the SQL or the data")
    if isinstance(err, duckdb.ProgrammingError | duckdb.NotImplementedException):
        return StepUsageError(f"the SQL is invalid: {message}; fix the SQL")
    return StepError(
        f"the SQL failed while running: {message}; raise memory_limit or free the temp folder "
        "if it ran out of memory or disk"
    )


def run(ctx: StepContext, config: TransformConfig) -> RowCounts:
    """Run the SQL over the inputs and write its result as this step's artifact."""
    import duckdb

    if not ctx.inputs:
        raise StepUsageError("a transform needs at least one --input NAME=URI")
    readers = [ctx.read_input(name) for name in ctx.inputs]
    input_rows = {r.name: r.rows for r in readers}
    ctx.log.event("transform_inputs", rows=input_rows)
    writer = ctx.artifact_writer()
    with _spill_folder(config.temp_directory) as spill:
        try:
            con = connect(
                memory_limit=config.memory_limit,
                temp_directory=spill,
                threads=config.threads,
                preserve_insertion_order=config.keep_order,
            )
        except duckdb.Error as err:
            raise StepUsageError(
                f"DuckDB rejects the settings: {one_line(err)}; fix memory_limit, threads or "
                "temp_directory"
            ) from None
        try:
            tables = _register_inputs(con, readers)
            try:
                leading, last = _split_statements(con, config.sql)
                for statement in leading:
                    con.execute(statement)
                    con.complete()  # run to its end; a leading query's rows are not the output
                query, schema_text = _output_query(con, con.sql(last.query))
                ordered = config.keep_order or _has_order_by(con, last.query)
            except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as err:
                raise StepUsageError(
                    f"the SQL is invalid: {one_line(err)}; tables: {tables}; fix the SQL"
                ) from None
            staging = writer.staging_folder(spill)
            rows, files = _write_parquet(
                con, query, staging, ordered=ordered, config=config, compression=writer.compression
            )
            writer.publish_files(files, rows=rows, schema_text=schema_text)
        except duckdb.Error as err:
            raise _running_failure(err) from None
        finally:
            con.close()
            writer.remove_staging()  # after a failure: no half-written files left behind
    writer.commit(rows_read=input_rows)
    return RowCounts(
        rows_in=sum(input_rows.values()),
        rows_out=rows,
        preserving=False,
        input_rows=input_rows,
    )
