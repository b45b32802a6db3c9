"""The ``unique`` rule across the whole input, with bounded memory.

A single integer key over a narrow range is checked in one pass with seen-flags
(``dense_keys``). Any other key goes the general way: before rows are checked
batch by batch, DuckDB reads only the key columns and finds the keys that occur
more than once, with the position of their first occurrence (a hash aggregate that
spills under the memory limit). When there are such keys, a second read of the
keys lists the positions of every later occurrence into a table sorted by
position. The batches, which come in order, then read that table a window of
positions at a time (one query per ``WINDOW_ROWS`` rows of input, not one per
batch) and pick their own range from it. The first occurrence in input order passes
and every later one fails, so a retry rejects the same rows.
"""

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from steps.checks.config import Unique
from steps.checks.dense_keys import DenseKeys, dense_keys
from steps.checks.rules import ROW_COLUMN, unique_flag_column
from steps.checks.scan import scan
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.duckdb_session import quote_identifier

if TYPE_CHECKING:
    import duckdb

_KEYS = "__ferry_keys"
WINDOW_ROWS = 1 << 20
"""Input positions whose rejected rows are fetched at once (at most 8 MB of positions)."""


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
        self._windows: dict[int, tuple[int, int, np.ndarray]] = {}
        self._dense: dict[int, DenseKeys] = {}
        for index, rule in rules.items():
            dense = dense_keys(reader, rule.columns())
            if dense is not None:
                self._dense[index] = dense
            else:
                self._tables[index] = self._find(reader, index, rule.columns(), batch_size)

    def _find(self, reader: ArtifactReader, index: int, columns: list[str], batch_size: int) -> str:
        keys = [quote_identifier(c) for c in columns]
        row = quote_identifier(ROW_COLUMN)
        first = f"__ferry_first_{index}"
        rejected = f"__ferry_rejected_{index}"
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        self._over_keys(
            reader,
            columns,
            batch_size,
            f"CREATE TEMP TABLE {first} AS SELECT {', '.join(keys)}, min({row}) AS first_row "
            f"FROM {_KEYS} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1",
        )
        self._con.execute(f"CREATE TEMP TABLE {rejected} ({row} BIGINT)")
        if self._con.sql(f"SELECT count(*) FROM {first}").fetchall()[0][0]:
            join = " AND ".join(f"k.{c} = f.{c}" for c in keys)
            self._over_keys(
                reader,
                columns,
                batch_size,
                f"INSERT INTO {rejected} SELECT k.{row} FROM {_KEYS} k JOIN {first} f "
                f"ON {join} WHERE k.{row} <> f.first_row ORDER BY k.{row}",
            )
        self._con.execute(f"DROP TABLE {first}")
        return rejected

    def _over_keys(
        self, reader: ArtifactReader, columns: list[str], batch_size: int, sql: str
    ) -> None:
        """Run ``sql`` over one read of the numbered key columns, registered as ``_KEYS``."""
        with _numbered_keys(reader, columns, batch_size) as numbered:
            self._con.register(_KEYS, numbered)
            try:
                self._con.execute(sql)
            finally:
                self._con.unregister(_KEYS)

    def flag_columns(self, batch: pa.RecordBatch, start: int) -> dict[str, pa.Array]:
        """For the batch at input position ``start``: one bool column per rule.

        Batches must come in input order, each once.
        """
        columns = {unique_flag_column(i): keys.flags(batch) for i, keys in self._dense.items()}
        rows = batch.num_rows
        for index in self._tables:
            found = self._positions(index, start, start + rows)
            flags = np.zeros(rows, dtype=bool)
            flags[found - start] = True
            columns[unique_flag_column(index)] = pa.array(flags)
        return columns

    def _positions(self, index: int, start: int, end: int) -> np.ndarray:
        """The rejected positions of rule ``index`` in ``start .. end``, sorted."""
        low, high, found = self._windows.get(index, (0, 0, np.empty(0, np.int64)))
        if start < low or end > high:
            low, high = start, start + max(end - start, WINDOW_ROWS)
            row = quote_identifier(ROW_COLUMN)
            fetched = self._con.sql(
                f"SELECT {row} FROM {self._tables[index]} "
                f"WHERE {row} >= {low} AND {row} < {high} ORDER BY {row}"
            ).fetchnumpy()[ROW_COLUMN]
            found = np.asarray(fetched, dtype=np.int64)
            self._windows[index] = (low, high, found)
        return found[np.searchsorted(found, start) : np.searchsorted(found, end)]
