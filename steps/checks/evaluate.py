"""Evaluate the row rules on one Arrow batch: in Arrow where that is exact, else in DuckDB.

Built-in rules whose SQL means the same as an Arrow kernel are computed in Arrow
(:mod:`steps.checks.arrow_rules`, several times faster); the others, and the
profile's hashes, in one DuckDB query over the batch, registered zero-copy together
with the ``unique`` flags, which returns one flag per rule for every row, in input
order. The ``_ferry_reason`` of a failing row, the failed rules' labels joined with
``"; "``, is then built in Arrow for the failing rows only.
"""

from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steps.checks.arrow_rules import Flags, arrow_flags
from steps.checks.config import Unique
from steps.checks.rules import ROW_COLUMN, CompiledRule, evaluation_sql, unique_flag_column
from steps.runtime.duckdb_session import one_line, parse_tree, quote_identifier, quote_literal
from steps.runtime.errors import DataRejected, StepError, StepUsageError

if TYPE_CHECKING:
    import duckdb

_BATCH = "__ferry_batch"
_VALUES = "__ferry_values"


def _complete(flags: list[pa.Array | None]) -> list[pa.Array]:
    """The flags of every rule, once Arrow and SQL have each computed theirs."""
    complete = [flag for flag in flags if flag is not None]
    assert len(complete) == len(flags)
    return complete


class _Plan:
    """For one batch schema: which rules Arrow computes, and the SQL of the rest."""

    def __init__(self, rules: list[CompiledRule], schema: pa.Schema, arrow: bool) -> None:
        self.arrow: list[Flags | None] = [
            arrow_flags(r.rule, i, schema) if arrow else None for i, r in enumerate(rules)
        ]
        self.in_sql = [i for i, fn in enumerate(self.arrow) if fn is None]
        self._sql_rules = [rules[i] for i in self.in_sql]
        self._queries: dict[tuple[str, ...], str] = {}

    def query(self, hashed: list[str]) -> str:
        """The DuckDB query of the rules left to SQL, then the hashes of ``hashed``."""
        query = self._queries.get(tuple(hashed))
        if query is None:
            query = self._queries[tuple(hashed)] = evaluation_sql(self._sql_rules, _BATCH, hashed)
        return query


class BatchEvaluator:
    """Runs the compiled rules over batches on one DuckDB connection."""

    def __init__(
        self, con: "duckdb.DuckDBPyConnection", rules: list[CompiledRule], *, arrow: bool = True
    ) -> None:
        """``arrow=False`` evaluates every rule in SQL (the reference the Arrow path is held to)."""
        self._con = con
        self._rules = rules
        self._arrow = arrow
        self._unique_columns = [
            unique_flag_column(i) for i, r in enumerate(rules) if isinstance(r.rule, Unique)
        ]
        self._plans: dict[pa.Schema, _Plan] = {}

    def check_rules_bind(self, schema: pa.Schema) -> None:
        """Evaluate each rule on one all-null row, so a bad rule fails before any row is read.

        The row's position is selected too, so an aggregate in a ``sql`` rule
        (which would collapse the batch to one row) is refused here as well; a window
        function, which binds fine but would compute over one batch and reorder its
        rows, is found in DuckDB's parse tree and refused.

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
                tree = parse_tree(self._con, f"SELECT {rule.failure_sql}")
                if tree is not None and _has_window_node(tree):
                    raise StepUsageError(
                        f"rule {rule.label} uses a window function (OVER ...), which would see "
                        "one batch of rows in no set order, not the whole input; compute the "
                        "value in the transform and check its result"
                    )
                aggregates = _aggregates_in(self._con, tree)
                if aggregates:
                    raise StepUsageError(
                        f"rule {rule.label} uses the aggregate function {aggregates[0]}, which "
                        "would see one batch of rows, not the whole input; a sql rule checks "
                        "each row on its own: use row_count for counts, or compute the "
                        "aggregate in a transform and check its result"
                    )
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

    def flags(
        self,
        con: "duckdb.DuckDBPyConnection",
        batch: pa.RecordBatch,
        start: int,
        unique_flags: dict[str, pa.Array],
        hashed: list[str],
    ) -> tuple[list[pa.Array], dict[str, pa.Array]]:
        """Per rule, which rows of the batch (at input position ``start``) fail it.

        Also returns, per column of ``hashed``, each row's hash (for the column
        profile). ``con`` is the calling thread's own cursor: the batch is registered
        on it.
        """
        import duckdb

        plan = self._plans.get(batch.schema)
        if plan is None:
            plan = self._plans[batch.schema] = _Plan(self._rules, batch.schema, self._arrow)
        flags: list[pa.Array | None] = [
            None if fn is None else fn(batch, unique_flags) for fn in plan.arrow
        ]
        if not plan.in_sql and not hashed:
            return _complete(flags), {}
        table = pa.Table.from_batches([batch])
        for name, column in unique_flags.items():
            table = table.append_column(name, column)
        con.register(_BATCH, table)
        try:
            result = con.sql(plan.query(hashed)).to_arrow_table()
        except duckdb.Error as err:
            failure = DataRejected if isinstance(err, duckdb.DataError) else StepError
            raise failure(
                f"checking input rows {start}..{start + batch.num_rows - 1} failed: "
                f"{one_line(err)}; fix the rule or the data"
            ) from None
        finally:
            con.unregister(_BATCH)
        columns = [result.column(i).combine_chunks() for i in range(result.num_columns)]
        for position, index in enumerate(plan.in_sql):
            flags[index] = columns[position]
        hashes = dict(zip(hashed, columns[len(plan.in_sql) :], strict=True))
        return _complete(flags), hashes

    @staticmethod
    def hash_values(con: "duckdb.DuckDBPyConnection", values: pa.Array) -> np.ndarray:
        """DuckDB's ``hash`` of each value, as :meth:`flags` computes it for a column."""
        con.register(_VALUES, pa.table({"v": values}))
        try:
            result = con.sql(f"SELECT hash(v) FROM {_VALUES}").to_arrow_table()
        finally:
            con.unregister(_VALUES)
        return result.column(0).to_numpy()

    def reasons(self, flags: list[pa.Array], rows: int) -> tuple[pa.Array, pa.Array]:
        """Which rows failed any rule, and for those rows the ``"; "``-joined rule labels."""
        if not flags:
            return pa.array([False] * rows), pa.array([], pa.string())
        failed = reduce(pc.or_, flags)
        indices = pc.indices_nonzero(failed)
        no_label = pa.scalar(None, pa.string())
        labels = [
            pc.if_else(rule_flags.take(indices), pa.scalar(rule.label), no_label)
            for rule, rule_flags in zip(self._rules, flags, strict=True)
        ]
        return failed, pc.binary_join_element_wise(*labels, "; ", null_handling="skip")


def _function_names(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["function_name"])] if node.get("class") == "FUNCTION" else []
        return own + [n for v in node.values() for n in _function_names(v)]
    if isinstance(node, list):
        return [n for v in node for n in _function_names(v)]
    return []


def _aggregates_in(con: "duckdb.DuckDBPyConnection", tree: Any) -> list[str]:
    """The aggregate functions an expression's parse tree calls, by DuckDB's own catalog.

    Binding would refuse them too, but naming the internal row-position column; this
    names the function the user wrote.
    """
    names = sorted({n.lower() for n in _function_names(tree)})
    if not names:
        return []
    listed = ", ".join(quote_literal(n) for n in names)
    rows = con.sql(
        "SELECT DISTINCT function_name FROM duckdb_functions() "
        f"WHERE function_type = 'aggregate' AND lower(function_name) IN ({listed}) "
        "ORDER BY function_name"
    ).fetchall()
    return ["count(*)" if r[0] == "count_star" else str(r[0]) for r in rows]


def _has_window_node(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("class") == "WINDOW" or any(_has_window_node(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_window_node(v) for v in node)
    return False
