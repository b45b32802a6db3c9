"""Row rules as DuckDB SQL: each becomes a boolean that is true when a row fails.

Every expression is null-safe (never null), so a row either fails a rule or it
does not. Null handling: ``not_null`` fails a null; ``accepted_values``, ``range``
and ``regex`` pass a null (leave nulls to ``not_null``); ``unique`` does not compare
keys holding a null; ``sql`` fails a row unless the predicate is true.
"""

from dataclasses import dataclass

from steps.checks.config import (
    AcceptedValues,
    NotNull,
    Range,
    Regex,
    RuleBase,
    Scalar,
    SqlRule,
    Unique,
)
from steps.runtime.duckdb_session import quote_identifier, quote_literal

ROW_COLUMN = "__ferry_row"
"""The row's 0-based position in the whole input, in key scans and the rule probe."""


def unique_flag_column(index: int) -> str:
    """Column added to each batch: whether the row repeats an earlier key of rule ``index``."""
    return f"__ferry_unique_{index}"


@dataclass(frozen=True)
class CompiledRule:
    """A row rule ready to evaluate: its label, its failure SQL, the columns to sample."""

    rule: RuleBase
    label: str
    failure_sql: str
    sample_columns: list[str]


def sql_value(value: Scalar) -> str:
    """A config value as a SQL literal of its own type.

    A ``range`` bound of 10 compares as a number, so a text column with such a bound
    fails to bind instead of comparing as text.
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return quote_literal(value)
    return repr(value)


def _typed_by_column(value: Scalar) -> str:
    """``value`` as a string literal, which DuckDB converts to the column's type.

    A number literal would make DuckDB convert the column instead, so a text column
    checked against ``[1, 2]`` would fail on its first non-numeric value rather than
    simply not match.
    """
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    return quote_literal(value if isinstance(value, str) else repr(value))


def _failure_sql(rule: RuleBase, index: int) -> str:
    if isinstance(rule, NotNull):
        return f"{quote_identifier(rule.column)} IS NULL"
    if isinstance(rule, Unique):
        return quote_identifier(unique_flag_column(index))
    if isinstance(rule, AcceptedValues):
        column = quote_identifier(rule.column)
        values = ", ".join(_typed_by_column(v) for v in rule.values)
        return f"{column} IS NOT NULL AND {column} NOT IN ({values})"
    if isinstance(rule, Range):
        column = quote_identifier(rule.column)
        low, high = (">=", "<=") if rule.inclusive else (">", "<")
        bounds = [f"{column} {low} {sql_value(rule.min)}"] if rule.min is not None else []
        bounds += [f"{column} {high} {sql_value(rule.max)}"] if rule.max is not None else []
        return f"{column} IS NOT NULL AND NOT ({' AND '.join(bounds)})"
    if isinstance(rule, Regex):
        column = quote_identifier(rule.column)
        pattern = quote_literal(rule.pattern)
        return f"{column} IS NOT NULL AND NOT regexp_matches(CAST({column} AS VARCHAR), {pattern})"
    if isinstance(rule, SqlRule):
        return f"NOT coalesce(({rule.predicate}), FALSE)"
    raise TypeError(f"{type(rule).__name__} is not a row rule")


def compile_rules(rules: list[RuleBase]) -> list[CompiledRule]:
    """The SQL of each row rule, in config order (the order of reasons)."""
    return [
        CompiledRule(
            rule=rule,
            label=rule.label(),
            failure_sql=f"coalesce(({_failure_sql(rule, index)}), FALSE)",
            sample_columns=rule.columns(),
        )
        for index, rule in enumerate(rules)
    ]


def evaluation_sql(rules: list[CompiledRule], table: str, hashed: list[str] | None = None) -> str:
    """One query over a batch: one flag column per rule, ``f0``, ``f1``, ..., then hashes.

    ``hashed`` columns get DuckDB's 64-bit ``hash`` each (``h0``, ``h1``, ...), which
    the column profile's distinct estimate needs. A ``SELECT`` over a single table
    keeps the table's row order (DuckDB's documented order preservation), so flag
    ``i`` of row ``n`` belongs to row ``n``.
    """
    flags = [f"{r.failure_sql} AS f{i}" for i, r in enumerate(rules)]
    hashes = [f"hash({quote_identifier(c)}) AS h{i}" for i, c in enumerate(hashed or [])]
    return f"SELECT {', '.join(flags + hashes)} FROM {quote_identifier(table)}"
