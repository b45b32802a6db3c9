"""Evaluate the row rules on one Arrow batch with one DuckDB query.

The batch is registered zero-copy together with each row's input position and
the ``unique`` flags; the query returns, per row and in input order, the failed
rules' labels joined with ``"; "`` (null when the row passes) and one flag per rule.
"""

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from steps.checks.config import Unique
from steps.checks.duplicates import DuplicateRows
from steps.checks.rules import ROW_COLUMN, CompiledRule, evaluation_sql, unique_flag_column
from steps.runtime.errors import StepError, StepUsageError
from steps.transform.duckdb_session import one_line, quote_identifier

if TYPE_CHECKING:
    import duckdb

_BATCH = "__ferry_batch"


class BatchEvaluator:
    """Runs the compiled rules over batches on one DuckDB connection."""

    def __init__(self, con: "duckdb.DuckDBPyConnection", rules: list[CompiledRule]) -> None:
        self._con = con
        self._rules = rules
        self._unique_columns = [
            unique_flag_column(i) for i, r in enumerate(rules) if isinstance(r.rule, Unique)
        ]
        self._query = evaluation_sql(rules, _BATCH)

    def check_rules_bind(self, schema: pa.Schema) -> None:
        """Evaluate each rule on one all-null row, so a bad rule fails before any row is read.

        Raises:
            StepUsageError: a rule's SQL does not parse or bind (bad regex, unknown
                function, a value the column's type cannot hold), naming the rule.
        """
        import duckdb

        probe = pa.Table.from_pylist([{}], schema=schema).append_column(
            ROW_COLUMN, pa.array([0], pa.int64())
        )
        for name in self._unique_columns:
            probe = probe.append_column(name, pa.array([False]))
        self._con.register(_BATCH, probe)
        try:
            for rule in self._rules:
                try:
                    self._con.sql(
                        f"SELECT {rule.failure_sql}, {quote_identifier(ROW_COLUMN)} FROM {_BATCH}"
                    ).fetchall()
                except duckdb.Error as err:
                    raise StepUsageError(
                        f"rule {rule.label} is invalid: {one_line(err)}; fix the rule"
                    ) from None
        finally:
            self._con.unregister(_BATCH)

    def evaluate(
        self, batch: pa.RecordBatch, start: int, duplicates: DuplicateRows
    ) -> tuple[pa.Array, list[pa.Array]]:
        """The reason per row (null = passes) and, per rule, which rows fail it."""
        import duckdb

        if not self._rules:
            return pa.nulls(batch.num_rows, pa.string()), []
        positions = np.arange(start, start + batch.num_rows, dtype=np.int64)
        table = pa.Table.from_batches([batch]).append_column(ROW_COLUMN, pa.array(positions))
        for name, flags in duplicates.flag_columns(start, batch.num_rows).items():
            table = table.append_column(name, flags)
        self._con.register(_BATCH, table)
        try:
            result = self._con.sql(self._query).to_arrow_table()
        except duckdb.Error as err:
            raise StepError(
                f"checking input rows {start}..{start + batch.num_rows - 1} failed: "
                f"{one_line(err)}; fix the rule or the data"
            ) from None
        finally:
            self._con.unregister(_BATCH)
        reason = result.column("reason").combine_chunks().cast(pa.string())
        flags = [result.column(f"f{i}").combine_chunks() for i in range(len(self._rules))]
        return reason, flags
