"""MariaDB/MySQL target: multi-row INSERT statements built column-wise with Arrow.

Each batch becomes SQL literals per column with Arrow compute (escaping, quoting,
NULLs), rows are joined element-wise and packed into INSERT statements of a few
MB, so no value passes through Python one at a time (binary values excepted).

DDL commits implicitly in MariaDB, so table creation and new columns run before the
data transaction; the rows and the ledger row commit together. Replace loads a
copy of the table, then ``RENAME TABLE t TO t_old, t_new TO t`` swaps both names
atomically, and only then records the load (a rerun after a crash in between
repeats the swap with the same rows, which is harmless).
"""

import re
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pymysql

from steps.databases.errors import BadValueError
from steps.databases.load_target import (
    NEW_SUFFIX,
    OLD_SUFFIX,
    LoadPlan,
    TargetDatabase,
    common_shape,
    reshape_columns,
    split_table,
)
from steps.databases.mysql.errors import message
from steps.databases.mysql.types import decimal_bounds

_STATEMENT_BYTES = 4 * 1024 * 1024
_AT_ROW = re.compile(r" at row (\d+)")


class MysqlTarget(TargetDatabase):
    """A PyMySQL connection; the data and the ledger row commit together."""

    dialect = "mysql"
    now_sql = "CURRENT_TIMESTAMP(6)"
    table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

    def ledger_ddl(self, ledger: str) -> str:
        """The ledger table; 4 x 190 utf8mb4 characters fit InnoDB's key length."""
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name(ledger)} (pipeline VARCHAR(190) NOT NULL, "
            "step VARCHAR(190) NOT NULL, run_id VARCHAR(190) NOT NULL, "
            "target_table VARCHAR(190) NOT NULL, `rows` BIGINT NOT NULL, "
            "loaded_at DATETIME(6) NOT NULL, PRIMARY KEY (pipeline, step, run_id, target_table))"
            f"{self.table_options}"
        )

    def readable_table(self, table: str) -> bool:
        """``table`` exists in the URL's database and the user has a privilege on it.

        information_schema lists only tables the user has some privilege on.
        """
        rows = self.query(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (table,),
        )
        return bool(rows and rows[0][0])

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns from information_schema (the URL's database unless schema-qualified)."""
        schema, name = split_table(table)
        rows = self.query(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s "
            "ORDER BY ORDINAL_POSITION",
            (schema, name),
        )
        return {str(c): str(t) for c, t in rows} or None

    def unique_keys(self, table: str) -> list[frozenset[str]]:
        """Column sets of the primary key and unique indexes."""
        schema, name = split_table(table)
        rows = self.query(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s AND NON_UNIQUE = 0",
            (schema, name),
        )
        indexes: dict[str, set[str]] = {}
        for index, column in rows:
            indexes.setdefault(str(index), set()).add(str(column))
        return [frozenset(c) for c in indexes.values()]

    def write(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        """DDL first (it commits implicitly), then rows + ledger row in one transaction."""
        table, names = plan.table, plan.schema.names
        if plan.existing is not None and plan.mode == "replace":
            return self._replace(plan, batches)
        if plan.existing is None:
            self.execute(self.create_table_sql(table, plan.schema, plan.key))
        for field in plan.new_fields:
            self.execute(self.add_column_sql(table, field))
        suffix = ""
        if plan.mode == "upsert":
            updates = [
                f"{self.name(n)} = VALUES({self.name(n)})" for n in names if n not in plan.key
            ]
            first = self.name(plan.key[0])
            suffix = f" ON DUPLICATE KEY UPDATE {', '.join(updates) or f'{first} = {first}'}"
        self.execute("START TRANSACTION")
        rows = self._insert(table, names, batches, suffix)
        self.record_load(plan.load, rows)
        self.commit()
        return rows

    def _replace(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        new, old = self.sibling(plan.table, NEW_SUFFIX), self.sibling(plan.table, OLD_SUFFIX)
        self.execute(f"DROP TABLE IF EXISTS {self.name(new)}, {self.name(old)}")
        self.execute(f"CREATE TABLE {self.name(new)} LIKE {self.name(plan.table)}")
        for field in plan.new_fields:
            self.execute(self.add_column_sql(new, field))
        self.execute("START TRANSACTION")
        rows = self._insert(new, plan.schema.names, batches, "")
        self.commit()
        self.execute(
            f"RENAME TABLE {self.name(plan.table)} TO {self.name(old)}, "
            f"{self.name(new)} TO {self.name(plan.table)}"
        )
        self.execute("START TRANSACTION")
        self.record_load(plan.load, rows)
        self.commit()
        self.execute(f"DROP TABLE {self.name(old)}")
        return rows

    def _insert(
        self, table: str, names: Sequence[str], batches: Iterator[pa.RecordBatch], suffix: str
    ) -> int:
        head = f"INSERT INTO {self.name(table)} ({', '.join(self.name(n) for n in names)}) VALUES "
        rows = 0
        cur = self.conn.cursor()
        try:
            for batch in batches:
                _refuse_non_finite(batch, table, rows + 1)
                batch = _fit_decimals(batch, table, rows + 1)
                for start, values in _statements(batch):
                    try:
                        cur.execute(head + values + suffix)
                    except pymysql.Error as err:
                        bad_row = _bad_row(err, table, rows + start)
                        if bad_row is None:
                            raise
                        raise bad_row from None
                rows += batch.num_rows
        finally:
            cur.close()
        return rows


def _bad_row(err: pymysql.Error, table: str, first_row: int) -> BadValueError | None:
    """A value error with the statement's row number turned into the load's; else None."""
    text = message(err)
    match = _AT_ROW.search(text)
    if match is None:
        return None
    row = first_row + int(match[1])
    return BadValueError(
        f"row {row} does not fit table {table!r}: {text[: match.start()]}; fix the value "
        "upstream or the column type (nothing was loaded)"
    )


def _refuse_non_finite(batch: pa.RecordBatch, table: str, first_row: int) -> None:
    """MariaDB/MySQL numeric columns hold no NaN or infinity: name the first such value."""
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if not pa.types.is_floating(field.type) or column.null_count == len(column):
            continue
        finite = pc.fill_null(pc.is_finite(column), True)
        if pc.all(finite).as_py():
            continue
        index = pc.index(finite, False).as_py()
        raise BadValueError(
            f"row {first_row + index} does not fit table {table!r}: column {field.name!r} "
            f"cannot take {column[index].as_py()!r} (MariaDB/MySQL store no NaN or infinity); "
            "fix the value upstream or make it null (nothing was loaded)"
        )


def _fit_decimals(batch: pa.RecordBatch, table: str, first_row: int) -> pa.RecordBatch:
    """Decimals wider than MariaDB's DECIMAL(65,30), narrowed where no digit is lost."""
    arrays = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        t = field.type
        if pa.types.is_decimal(t) and decimal_bounds(t) != (t.precision, t.scale):
            narrow = pa.decimal256(*decimal_bounds(t))
            try:
                column = pc.cast(column, narrow)
            except pa.ArrowInvalid:
                index = next(
                    i for i in range(len(column)) if not _casts(column.slice(i, 1), narrow)
                )
                raise BadValueError(
                    f"row {first_row + index} does not fit table {table!r}: column "
                    f"{field.name!r} cannot take {column[index].as_py()} (MariaDB/MySQL "
                    f"decimals hold at most 65 digits, 30 after the point: {narrow}); round "
                    "it upstream (nothing was loaded)"
                ) from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _casts(value: pa.Array, t: pa.DataType) -> bool:
    try:
        pc.cast(value, t)
    except pa.ArrowInvalid:
        return False
    return True


def _statements(batch: pa.RecordBatch) -> Iterator[tuple[int, str]]:
    """(index of the first row, ``(..),(..)`` text) per statement of at most a few MB."""
    if batch.num_rows == 0:
        return
    shaped = reshape_columns(batch, common_shape)
    literals = [_literals(column) for column in shaped.columns]
    rows = pc.binary_join_element_wise("(", pc.binary_join_element_wise(*literals, ","), ")", "")
    ends = np.cumsum(pc.binary_length(rows).to_numpy() + 1)
    start = 0
    while start < len(rows):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + _STATEMENT_BYTES, side="right")))
        chunk = rows.slice(start, stop - start)
        offsets = pa.array([0, len(chunk)], pa.int32())
        yield start, pc.binary_join(pa.ListArray.from_arrays(offsets, chunk), ",")[0].as_py()
        start = stop


def _literals(column: pa.Array) -> pa.Array:
    """Each value as a MariaDB literal (strings escaped and quoted), NULL for nulls."""
    t = column.type
    if pa.types.is_null(t):
        return pa.array(["NULL"] * len(column), pa.string())
    if pa.types.is_boolean(t):
        text = column.cast(pa.int8()).cast(pa.string())
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        text = column.cast(pa.string())
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        text = pa.array(
            [None if v is None else ("0x" + v.hex() if v else "''") for v in column.to_pylist()],
            pa.string(),
        )
    else:
        if pa.types.is_timestamp(t) and t.tz is not None:
            column = column.cast(pa.timestamp(t.unit))
        text = _quoted(column.cast(pa.string()))
    return pc.fill_null(text, "NULL")


def _quoted(text: pa.Array) -> pa.Array:
    for plain, escaped in (("\\", "\\\\"), ("'", "\\'"), ("\x00", "\\0")):
        text = pc.replace_substring(text, plain, escaped)
    return pc.binary_join_element_wise("'", text, "'", "")
