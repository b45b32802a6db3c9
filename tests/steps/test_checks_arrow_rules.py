"""Rules computed in Arrow give exactly the flags their DuckDB SQL gives, row by row."""

import math
import random

import duckdb
import pyarrow as pa
import pytest

from steps.checks.config import AcceptedValues, NotNull, Range, Regex, RuleBase, SqlRule, Unique
from steps.checks.evaluate import BatchEvaluator, _Plan
from steps.checks.rules import compile_rules, unique_flag_column

ROWS = 3000

TEXTS = ["placed", "shipped", "", " placed", "PLACED", "a@b.c", "a@@b.c", "x@y", "é@ü.de",
         "a\nb@c.d", "a b@c.d", "@b.c", "a@b.", "日本@例え.jp", "ab", "a.b@c.d.e"]  # fmt: skip


def _batch(seed: int) -> pa.RecordBatch:
    rng = random.Random(seed)

    def maybe(value: object) -> object:
        return None if rng.random() < 0.1 else value

    floats = [0.0, -0.0, 1.5, -1.5, 10.0, 9.999999, 10.000001, math.nan, math.inf, -math.inf]
    return pa.RecordBatch.from_pydict(
        {
            "i64": pa.array([maybe(rng.randint(-20, 20)) for _ in range(ROWS)], pa.int64()),
            "i8": pa.array([maybe(rng.randint(-128, 127)) for _ in range(ROWS)], pa.int8()),
            "u32": pa.array([maybe(rng.randint(0, 40)) for _ in range(ROWS)], pa.uint32()),
            "f64": pa.array(
                [maybe(rng.choice([*floats, rng.uniform(-20, 20)])) for _ in range(ROWS)],
                pa.float64(),
            ),
            "text": pa.array([maybe(rng.choice(TEXTS)) for _ in range(ROWS)], pa.string()),
            "big_text": pa.array(
                [maybe(rng.choice(TEXTS)) for _ in range(ROWS)], pa.large_string()
            ),
        }
    )


ARROW_RULES: list[RuleBase] = [
    NotNull(column="i64"),
    NotNull(column="f64"),
    NotNull(column="text"),
    Unique(columns=["i64"]),
    AcceptedValues(column="text", values=["placed", "shipped", ""]),
    AcceptedValues(column="big_text", values=["placed", "é@ü.de"]),
    AcceptedValues(column="i64", values=[1, 2, -3]),
    AcceptedValues(column="i8", values=[-128, 0, 127]),
    AcceptedValues(column="u32", values=[0, 7]),
    Range(column="i64", min=-5, max=5),
    Range(column="i64", min=-5, max=5, inclusive=False),
    Range(column="i64", min=0),
    Range(column="i8", max=-100),
    Range(column="u32", min=3, max=30),
    Range(column="f64", min=0, max=10),
    Range(column="f64", min=-1.5, max=9.999999, inclusive=False),
    Range(column="f64", min=0),
    Range(column="f64", max=10.0),
    Range(column="f64", max=0, inclusive=False),
    Regex(column="text", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Regex(column="big_text", pattern="@"),
    Regex(column="text", pattern=r"^\w+$"),
    Regex(column="text", pattern="b.c"),
    Regex(column="text", pattern="(?i)placed"),
]
"""Rules the evaluator computes in Arrow: each is held to its SQL below."""

SQL_RULES: list[RuleBase] = [
    SqlRule(name="small", predicate="i64 < 10"),
    AcceptedValues(column="i64", values=["1", 2]),
    AcceptedValues(column="text", values=[1, "placed"]),
    Range(column="i64", min=0.5),
    Range(column="i8", min=-1000),
    Range(column="f64", min=2**60),
    Range(column="text", min="a"),
    Regex(column="i64", pattern="1"),
]
"""Rules whose Arrow form could differ from their SQL: they stay in DuckDB."""


def _flags(rules: list[RuleBase], batch: pa.RecordBatch, *, arrow: bool) -> list[list[bool]]:
    con = duckdb.connect()
    compiled = compile_rules(rules)
    evaluator = BatchEvaluator(con, compiled, arrow=arrow)
    evaluator.check_rules_bind(batch.schema)
    rng = random.Random(7)
    uniques = {
        unique_flag_column(i): pa.array(
            [rng.choice([True, False, None]) for _ in range(batch.num_rows)], pa.bool_()
        )
        for i, r in enumerate(rules)
        if isinstance(r, Unique)
    }
    flags, _ = evaluator.flags(con.cursor(), batch, 0, uniques, [])
    return [f.to_pylist() for f in flags]


def test_the_arrow_rules_are_computed_in_arrow_and_the_others_in_sql() -> None:
    schema = _batch(0).schema
    plan = _Plan(compile_rules(ARROW_RULES + SQL_RULES), schema, arrow=True)
    in_arrow = [i for i, fn in enumerate(plan.arrow) if fn is not None]
    assert in_arrow == list(range(len(ARROW_RULES)))
    assert plan.in_sql == list(range(len(ARROW_RULES), len(ARROW_RULES) + len(SQL_RULES)))


@pytest.mark.parametrize("seed", range(4))
def test_arrow_flags_equal_the_sql_flags_row_by_row(seed: int) -> None:
    batch = _batch(seed)
    rules = ARROW_RULES + SQL_RULES
    expected = _flags(rules, batch, arrow=False)
    got = _flags(rules, batch, arrow=True)
    for rule, want, have in zip(rules, expected, got, strict=True):
        assert None not in have, rule.label()
        assert have == want, rule.label()
    assert any(any(f) for f in got) and not all(all(f) for f in got)
