"""The ``unique`` rule across the whole input, with bounded memory.

Before rows are checked batch by batch, DuckDB reads only the key columns and
finds the keys that occur more than once, with the position of their first
occurrence (a hash aggregate that spills under the memory limit). When there are
such keys, a second read of the keys lists the positions of every later
occurrence into a table sorted by position. Each batch then asks that table for
the positions in its own range. The first occurrence in input order passes and
every later one fails, so a retry rejects the same rows.
"""

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from steps.checks.config import Unique
from steps.checks.rules import ROW_COLUMN, unique_flag_column
from steps.checks.scan import scan
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.duckdb_session import quote_identifier

if TYPE_CHECKING:
    import duckdb

_KEYS = "__ferry_keys"


@contextmanager
def _numbered_keys(
    reader: ArtifactReader, columns: list[str], batch_size: int
) -> Iterator[pa.RecordBatchReader]:
    """The key columns of the input plus each row's position, streamed.

    Leaving the block stops the scan's read-ahead thread and joins it, whether or not
    DuckDB read the stream to its end.
    """
    schema = reader.schema
    out_schema = pa.schema([schema.field(c) for c in columns] + [pa.field(ROW_COLUMN, pa.int64())])
    with closing(scan(reader, batch_size, columns)) as source:

        def numbered() -> Iterator[pa.RecordBatch]:
            offset = 0
            for batch in source:
                positions = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
                offset += batch.num_rows
                yield batch.append_column(ROW_COLUMN, positions)

        yield pa.RecordBatchReader.from_batches(out_schema, numbered())


class DuplicateRows:
    """Positions of the rows each ``unique`` rule rejects, looked up per batch."""

    def __init__(
        self,
        con: "duckdb.DuckDBPyConnection",
        reader: ArtifactReader,
        rules: dict[int, Unique],
        batch_size: int,
    ) -> None:
        self._con = con
        self._tables: dict[int, str] = {}
        for index, rule in rules.items():
            self._tables[index] = self._find(reader, index, rule.columns(), batch_size)

    def _find(self, reader: ArtifactReader, index: int, columns: list[str], batch_size: int) -> str:
        keys = [quote_identifier(c) for c in columns]
        row = quote_identifier(ROW_COLUMN)
        first = f"__ferry_first_{index}"
        rejected = f"__ferry_rejected_{index}"
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        with _numbered_keys(reader, columns, batch_size) as numbered:
            self._con.register(_KEYS, numbered)
            try:
                self._con.execute(
                    f"CREATE TEMP TABLE {first} AS SELECT {', '.join(keys)}, min({row}) AS "
                    f"first_row FROM {_KEYS} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1"
                )
            finally:
                self._con.unregister(_KEYS)
        self._con.execute(f"CREATE TEMP TABLE {rejected} ({row} BIGINT)")
        if self._con.sql(f"SELECT count(*) FROM {first}").fetchall()[0][0]:
            join = " AND ".join(f"k.{c} = f.{c}" for c in keys)
            with _numbered_keys(reader, columns, batch_size) as numbered:
                self._con.register(_KEYS, numbered)
                try:
                    self._con.execute(
                        f"INSERT INTO {rejected} SELECT k.{row} FROM {_KEYS} k JOIN {first} f "
                        f"ON {join} WHERE k.{row} <> f.first_row ORDER BY k.{row}"
                    )
                finally:
                    self._con.unregister(_KEYS)
        self._con.execute(f"DROP TABLE {first}")
        return rejected

    def flag_columns(self, start: int, rows: int) -> dict[str, pa.Array]:
        """For the batch at positions ``start .. start+rows``: one bool column per rule."""
        columns: dict[str, pa.Array] = {}
        row = quote_identifier(ROW_COLUMN)
        for index, table in self._tables.items():
            flags = np.zeros(rows, dtype=bool)
            found = self._con.sql(
                f"SELECT {row} FROM {table} WHERE {row} >= {start} AND {row} < {start + rows}"
            ).fetchnumpy()[ROW_COLUMN]
            flags[np.asarray(found, dtype=np.int64) - start] = True
            columns[unique_flag_column(index)] = pa.array(flags)
        return columns
