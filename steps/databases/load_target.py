"""What every SQL load target does the same way: the load ledger, table DDL, introspection.

The ledger ``_ferry_loads`` has one row per (pipeline, step, run_id, target_table),
written in the same transaction as the data; ``run_id`` holds the load's identity
(``steps.runtime.load_identity``): the run id, or ``<start>/<end>`` for an append of a
run with a data interval. A load that finds its row already there does nothing, so
rerunning a step of the same run, or appending the same interval again, never
duplicates rows. The
ledger lives next to its target: ``sales._ferry_loads`` for ``sales.orders``, the
unqualified ``_ferry_loads`` (where the connection puts unqualified tables) for
``orders``. Ferry before that kept every ledger unqualified; a row found there for a
schema-qualified target still counts (it is only read, never written).
Each dialect's ``load_target.py`` subclasses :class:`TargetDatabase` with its bulk
path and the order of its commits; the shaping helpers at the end are what every
bulk path needs (plain values for dictionaries, JSON text for nested values).
"""

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pyarrow as pa

from steps.databases.bounds import Bounds
from steps.databases.dialect import SqlDialect
from steps.databases.sql import quote_name
from steps.databases.url import DatabaseUrl, Dialect
from steps.databases.uuids import uuid_text

LEDGER = "_ferry_loads"
NEW_SUFFIX = "__ferry_new"
OLD_SUFFIX = "__ferry_old"

Mode = Literal["append", "replace", "upsert"]


@dataclass(frozen=True)
class LoadId:
    """The identity of one load: its ledger row."""

    pipeline: str
    step: str
    run_id: str
    """The load's key: the run id, or the data interval of an append."""
    table: str

    def params(self) -> tuple[str, str, str, str]:
        """The ledger key as query parameters."""
        return (self.pipeline, self.step, self.run_id, self.table)


@dataclass(frozen=True)
class LoadPlan:
    """Everything decided before the first row is sent."""

    load: LoadId
    table: str
    mode: Mode
    key: list[str]
    schema: pa.Schema
    existing: dict[str, str] | None
    new_fields: list[pa.Field]


def split_table(table: str) -> tuple[str | None, str]:
    """``schema.table`` into its parts (schema None when not given)."""
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def sibling(table: str, suffix: str, limit: int | None = None) -> str:
    """``schema.table`` + suffix on the table part (the staging and retired tables).

    With ``limit`` (the database's longest name, in bytes) a name that would be longer
    keeps as much of the table name as fits, then ``_`` and 8 hex digits of its hash,
    then the suffix: the database would cut it to the limit, which for a long name is
    the table itself or another table's staging name.
    """
    schema, name = split_table(table)
    full = f"{name}{suffix}"
    if limit is not None and len(full.encode()) > limit:
        digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
        head = name.encode()[: limit - len(suffix) - len(digest) - 1].decode(errors="ignore")
        full = f"{head}_{digest}{suffix}"
    return f"{schema}.{full}" if schema else full


def ledger_of(table: str) -> str:
    """The ledger of loads into ``table``: in the same schema."""
    schema, _ = split_table(table)
    return f"{schema}.{LEDGER}" if schema else LEDGER


class TargetDatabase(ABC):
    """A connection to the target database with one open transaction."""

    dialect: ClassVar[Dialect]
    placeholder: ClassVar[str] = "%s"

    def __init__(
        self, conn: Any, url: DatabaseUrl, sql_dialect: SqlDialect, bounds: Bounds | None = None
    ) -> None:
        self.conn = conn
        self.url = url
        self.sql_dialect = sql_dialect
        self.bounds = bounds or Bounds()

    def sibling(self, table: str, suffix: str) -> str:
        """The staging or retired table of ``table``, its name within the database's limit."""
        return sibling(table, suffix, self.sql_dialect.max_identifier)

    def name(self, identifier: str) -> str:
        """A quoted (possibly schema-qualified) identifier."""
        return quote_name(self.dialect, identifier)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement in the current transaction."""
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params or None)
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params or None)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def commit(self) -> None:
        """Commit the open transaction."""
        self.conn.commit()

    def rollback(self) -> None:
        """Roll back whatever is uncommitted (best effort on a dropped connection)."""
        try:
            self.conn.rollback()
        except Exception:  # a dead connection has nothing left to undo
            return

    def close(self) -> None:
        """Close the connection."""
        try:
            self.conn.close()
        except Exception:  # closing a dead connection may fail; nothing to do
            return

    @abstractmethod
    def ledger_ddl(self, ledger: str) -> str:
        """``CREATE TABLE IF NOT EXISTS <ledger> (...)`` in this dialect."""

    def ensure_ledger(self, table: str) -> None:
        """Create the ledger of ``table`` when missing."""
        self.execute(self.ledger_ddl(ledger_of(table)))

    def readable_table(self, table: str) -> bool:
        """Whether ``table`` exists and this user may read it (without failing otherwise)."""
        return False

    def loaded_rows(self, load: LoadId) -> int | None:
        """Rows recorded for ``load``, or None when it has not been committed."""
        ledger = ledger_of(load.table)
        found = self._ledger_rows(ledger, load)
        if found is None and ledger != LEDGER and self.readable_table(LEDGER):
            found = self._ledger_rows(LEDGER, load)  # where Ferry kept every ledger before
        return found

    def _ledger_rows(self, ledger: str, load: LoadId) -> int | None:
        p = self.placeholder
        rows = self.query(
            f"SELECT {self.name('rows')} FROM {self.name(ledger)} WHERE pipeline = {p} "
            f"AND step = {p} AND run_id = {p} AND target_table = {p}",
            load.params(),
        )
        return int(rows[0][0]) if rows else None

    def record_load(self, load: LoadId, rows: int) -> None:
        """Write the ledger row of ``load`` in the current transaction."""
        p = self.placeholder
        self.execute(
            f"INSERT INTO {self.name(ledger_of(load.table))} "
            "(pipeline, step, run_id, target_table, "
            f"{self.name('rows')}, loaded_at) VALUES ({p}, {p}, {p}, {p}, {p}, {self.now_sql})",
            (*load.params(), rows),
        )

    now_sql: ClassVar[str] = "CURRENT_TIMESTAMP"

    @abstractmethod
    def columns(self, table: str) -> dict[str, str] | None:
        """Column name -> SQL type of ``table`` in order, or None when it does not exist."""

    @abstractmethod
    def unique_keys(self, table: str) -> list[frozenset[str]]:
        """The column sets of the table's primary key and unique indexes."""

    def create_table_sql(self, table: str, schema: pa.Schema, key: Sequence[str]) -> str:
        """DDL for a new table holding ``schema``, with ``key`` as primary key."""
        columns = [
            f"{self.name(f.name)} {self.sql_dialect.sql_type(f.type, is_key=f.name in key)}"
            + (" NOT NULL" if f.name in key else "")
            for f in schema
        ]
        if key:
            columns.append(f"PRIMARY KEY ({', '.join(self.name(k) for k in key)})")
        return f"CREATE TABLE {self.name(table)} ({', '.join(columns)}){self.table_options}"

    table_options: ClassVar[str] = ""

    def add_column_sql(self, table: str, field: pa.Field) -> str:
        """DDL adding one (nullable) column."""
        return (
            f"ALTER TABLE {self.name(table)} ADD COLUMN {self.name(field.name)} "
            f"{self.sql_dialect.sql_type(field.type)}"
        )

    @abstractmethod
    def write(self, plan: LoadPlan, batches: Iterator[pa.RecordBatch]) -> int:
        """Create/alter the table, send the rows, record the load, commit; return rows sent."""


def reshape_columns(
    batch: pa.RecordBatch, rule: Callable[[pa.Array], pa.Array | None]
) -> pa.RecordBatch:
    """Apply ``rule`` to every column; a column it returns None for stays as it is."""
    arrays = []
    for column in batch.columns:
        shaped = rule(column)
        arrays.append(column if shaped is None else shaped)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def common_shape(column: pa.Array) -> pa.Array | None:
    """Shapes every driver needs: plain values for dictionaries, JSON text for nested data.

    Extension types (artifacts written before extracts made every type portable) load
    as their storage, ``arrow.uuid`` as canonical text.
    """
    if isinstance(column, pa.ExtensionArray):
        if column.type.extension_name == "arrow.uuid":
            return uuid_text(column.storage)
        return common_shape(column.storage) or column.storage
    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    if pa.types.is_nested(column.type):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()],
            type=pa.string(),
        )
    if pa.types.is_duration(column.type):
        return column.cast(pa.int64())
    return None
