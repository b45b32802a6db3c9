"""PostgreSQL target: COPY (CSV) through psycopg 3, everything in one transaction.

DDL is transactional in PostgreSQL, so table creation, new columns, the rows, the
ledger row and (for replace) the rename swap all commit together or not at all.
Replace loads a copy of the table (``LIKE ... INCLUDING ALL``) and swaps names in
the same transaction: readers see the old rows until the commit, then the new ones.
"""

import datetime as dt
from collections.abc import Iterator, Sequence

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from steps.databases.load_target import (
    NEW_SUFFIX,
    OLD_SUFFIX,
    LoadPlan,
    TargetDatabase,
    common_shape,
    ledger_of,
    reshape_columns,
    split_table,
)

_STAGE = "_ferry_stage"
_ROW = "_ferry_row"


class PostgresTarget(TargetDatabase):
    """A psycopg 3 connection with one open transaction."""

    dialect = "postgresql"

    def ledger_ddl(self, ledger: str) -> str:
        """The ledger table in PostgreSQL types."""
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name(ledger)} (pipeline text NOT NULL, "
            "step text NOT NULL, run_id text NOT NULL, target_table text NOT NULL, "
            "rows bigint NOT NULL, loaded_at timestamptz NOT NULL, "
            "PRIMARY KEY (pipeline, step, run_id, target_table))"
        )

    def ensure_ledger(self, table: str) -> None:
        """Create the ledger of ``table`` (in its schema) in a transaction of its own.

        Two loads starting at once (parallel targets on a first run) may both try to
        create it; the loser's duplicate error only means the table is there now.
        """
        try:
            self.execute(self.ledger_ddl(ledger_of(table)))
            self.commit()
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            self.rollback()

    def readable_table(self, table: str) -> bool:
        """``table`` exists on the search_path and this user may select from it."""
        rows = self.query(
            "SELECT CASE WHEN to_regclass(%s) IS NULL THEN false "
            "ELSE has_table_privilege(to_regclass(%s), 'SELECT') END",
            (self.name(table), self.name(table)),
        )
        return bool(rows and rows[0][0])

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns from information_schema (the URL's search_path decides the schema)."""
        schema, name = split_table(table)
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = COALESCE(%s, current_schema()) AND table_name = %s "
            "ORDER BY ordinal_position",
            (schema, name),
        )
        return {str(c): str(t) for c, t in rows} or None

    def unique_keys(self, table: str) -> list[frozenset[str]]:
        """Column sets of the primary key and unique indexes."""
        rows = self.query(
            "SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisunique GROUP BY i.indexrelid",
            (self.name(table),),
        )
        return [frozenset(r[0]) for r in rows]

    def write(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        """Load per mode, record the ledger row and commit, all in one transaction."""
        table, names = plan.table, plan.schema.names
        existing = plan.existing or {}
        self._arrays = {
            f.name
            for f in plan.schema
            if existing.get(f.name, self.sql_dialect.sql_type(f.type)).upper() == "ARRAY"
            or (f.name not in existing and self.sql_dialect.sql_type(f.type).endswith("[]"))
        }
        if plan.existing is None:
            self.execute(self.create_table_sql(table, plan.schema, plan.key))
        elif plan.mode == "replace":
            return self._replace(plan, batches)
        for field in plan.new_fields:
            self.execute(self.add_column_sql(table, field))
        if plan.mode == "upsert":
            rows = self._upsert(table, names, plan.key, batches)
        else:
            rows = self._copy(table, names, batches)
        self.record_load(plan.load, rows)
        self.commit()
        return rows

    def _replace(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        new, old = self.sibling(plan.table, NEW_SUFFIX), self.sibling(plan.table, OLD_SUFFIX)
        self.execute(f"DROP TABLE IF EXISTS {self.name(new)}, {self.name(old)}")
        self.execute(f"CREATE TABLE {self.name(new)} (LIKE {self.name(plan.table)} INCLUDING ALL)")
        for field in plan.new_fields:
            self.execute(self.add_column_sql(new, field))
        rows = self._copy(new, plan.schema.names, batches)
        self.record_load(plan.load, rows)
        self.execute(
            f"ALTER TABLE {self.name(plan.table)} RENAME TO {self.name(split_table(old)[1])}"
        )
        self.execute(
            f"ALTER TABLE {self.name(new)} RENAME TO {self.name(split_table(plan.table)[1])}"
        )
        self.execute(f"DROP TABLE {self.name(old)}")
        self.commit()
        return rows

    def _upsert(
        self,
        table: str,
        names: Sequence[str],
        key: Sequence[str],
        batches: Iterator[pa.RecordBatch],
    ) -> int:
        cols = ", ".join(self.name(n) for n in names)
        keys = ", ".join(self.name(k) for k in key)
        self.execute(
            f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS SELECT {cols} FROM {self.name(table)} "
            "WITH NO DATA"
        )
        self.execute(f"ALTER TABLE {_STAGE} ADD COLUMN {_ROW} bigint GENERATED ALWAYS AS IDENTITY")
        rows = self._copy(_STAGE, names, batches)
        updates = [f"{self.name(n)} = EXCLUDED.{self.name(n)}" for n in names if n not in key]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        self.execute(
            f"INSERT INTO {self.name(table)} ({cols}) SELECT DISTINCT ON ({keys}) {cols} "
            f"FROM {_STAGE} ORDER BY {keys}, {_ROW} DESC ON CONFLICT ({keys}) {action}"
        )
        return rows

    def _copy(self, table: str, names: Sequence[str], batches: Iterator[pa.RecordBatch]) -> int:
        cols = ", ".join(self.name(n) for n in names)
        rows = 0
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {self.name(table)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
        ):
            for batch in batches:
                copy.write(_csv(batch, getattr(self, "_arrays", set())))
                rows += batch.num_rows
        return rows


def _csv(batch: pa.RecordBatch, arrays: set[str]) -> memoryview:
    """The batch as CSV that COPY reads: null unquoted-empty, text always quoted.

    Lists headed for array columns become array literals (``{1,2}``), other nested
    values JSON text (for ``jsonb``).
    """
    if arrays:
        batch = pa.RecordBatch.from_arrays(
            [
                _array_literals(c) if n in arrays else c
                for n, c in zip(batch.schema.names, batch.columns, strict=True)
            ],
            names=batch.schema.names,
        )
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        reshape_columns(batch, _postgres_shape), sink, pacsv.WriteOptions(include_header=False)
    )
    return memoryview(sink.getvalue())


def _array_literals(column: pa.Array) -> pa.Array:
    """Lists as PostgreSQL array literals: every element quoted, NULL bare."""
    if isinstance(column, pa.ChunkedArray):  # pragma: no cover - batches hold arrays
        column = column.combine_chunks()
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        return column
    return pa.array(
        [None if v is None else _array_literal(v) for v in column.to_pylist()], pa.string()
    )


def _array_literal(values: list[object]) -> str:
    return "{" + ",".join(_element(v) for v in values) + "}"


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return _array_literal(value)
    if isinstance(value, bool):
        text = "t" if value else "f"
    elif isinstance(value, bytes):
        text = "\\x" + value.hex()
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _postgres_shape(column: pa.Array) -> pa.Array | None:
    t = column.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.array(
            [None if v is None else "\\x" + v.hex() for v in column.to_pylist()], type=pa.string()
        )
    return common_shape(column)
