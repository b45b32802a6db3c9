"""SQLite target: ADBC binds whole Arrow batches to one prepared INSERT.

SQLite's DDL is transactional and a writer holds the database lock until commit,
so every mode (replace is DELETE + INSERT) commits the rows and the ledger row
together; other connections see the old content or the new one.
"""

from collections.abc import Iterator, Sequence

import pyarrow as pa

from steps.databases.load_target import (
    LoadPlan,
    TargetDatabase,
    common_shape,
    reshape_columns,
    split_table,
)


class SqliteTarget(TargetDatabase):
    """An ADBC SQLite connection with one open transaction."""

    dialect = "sqlite"
    placeholder = "?"

    def ledger_ddl(self, ledger: str) -> str:
        """The ledger table in SQLite types."""
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name(ledger)} (pipeline TEXT NOT NULL, "
            "step TEXT NOT NULL, run_id TEXT NOT NULL, target_table TEXT NOT NULL, "
            '"rows" INTEGER NOT NULL, loaded_at TEXT NOT NULL, '
            "PRIMARY KEY (pipeline, step, run_id, target_table))"
        )

    def _pragma(self, table: str, pragma: str) -> str:
        schema, name = split_table(table)
        prefix = f"{self.name(schema)}." if schema else ""
        return f"PRAGMA {prefix}{pragma}({self.name(name)})"

    def readable_table(self, table: str) -> bool:
        """``table`` exists in the main database."""
        rows = self.query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        )
        return bool(rows and rows[0][0])

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns and declared types from ``PRAGMA table_info``."""
        rows = self.query(self._pragma(table, "table_info"))
        return {str(r[1]): str(r[2]) for r in rows} or None

    def unique_keys(self, table: str) -> list[frozenset[str]]:
        """The primary key and the unique indexes."""
        info = self.query(self._pragma(table, "table_info"))
        keys = [frozenset(str(r[1]) for r in info if r[5])]
        for index in self.query(self._pragma(table, "index_list")):
            if index[2]:
                schema, _ = split_table(table)
                columns = self.query(
                    self._pragma(f"{schema}.{index[1]}" if schema else str(index[1]), "index_info")
                )
                keys.append(frozenset(str(c[2]) for c in columns))
        return [k for k in keys if k]

    def write(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        """Create/alter, delete (replace), insert, record, commit: one transaction."""
        table, names = plan.table, plan.schema.names
        if plan.existing is None:
            self.execute(self.create_table_sql(table, plan.schema, plan.key))
        for field in plan.new_fields:
            self.execute(self.add_column_sql(table, field))
        if plan.mode == "replace":
            self.execute(f"DELETE FROM {self.name(table)}")
        rows = self._insert(table, names, plan.key if plan.mode == "upsert" else [], batches)
        self.record_load(plan.load, rows)
        self.commit()
        return rows

    def _insert(
        self,
        table: str,
        names: Sequence[str],
        key: Sequence[str],
        batches: Iterator[pa.RecordBatch],
    ) -> int:
        sql = (
            f"INSERT INTO {self.name(table)} ({', '.join(self.name(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        if key:
            updates = [f"{self.name(n)} = excluded.{self.name(n)}" for n in names if n not in key]
            action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
            sql += f" ON CONFLICT ({', '.join(self.name(k) for k in key)}) {action}"
        rows = 0
        cur = self.conn.cursor()
        try:
            for batch in batches:
                if batch.num_rows:
                    cur.executemany(sql, reshape_columns(batch, _sqlite_shape))
                rows += batch.num_rows
        finally:
            cur.close()
        return rows


def _sqlite_shape(column: pa.Array) -> pa.Array | None:
    """Decimals and times of day as text (ADBC binds neither); the rest as every driver."""
    if pa.types.is_decimal(column.type) or pa.types.is_time(column.type):
        return column.cast(pa.string())
    return common_shape(column)
