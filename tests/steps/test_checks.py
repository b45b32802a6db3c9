"""The ``check`` step: every rule, quarantine, report.json, threshold, bad rules."""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from steps.checks.config import (
    AcceptedValues,
    ChecksConfig,
    NotNull,
    Range,
    Regex,
    RowCount,
    SqlRule,
    Unique,
)
from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location
from tests.conftest import run_step


def make_input(folder: Path, *batches: pa.RecordBatch) -> str:
    """Commit an artifact of ``batches`` as upstream step ``orders`` would."""
    uri = str(folder / "artifacts" / "r1" / "orders")
    writer = ArtifactWriter(open_location(uri), pipeline="p", step="orders", run_id="r1")
    for batch in batches:
        writer.write(batch)
    writer.commit()
    return uri


def check(tmp_path: Path, input_uri: str, rules: list[dict[str, Any]], **config: Any):
    out = tmp_path / "artifacts" / "r1" / "orders-checked"
    result = run_step(
        "check",
        *("--pipeline", "p", "--step", "orders-checked", "--run-id", "r1"),
        *("--store", str(tmp_path), "--input", f"orders={input_uri}", "--output", str(out)),
        "--config",
        json.dumps({"rules": rules, **config}),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
    )
    return result, out


def part(out: Path, name: str) -> list[dict[str, Any]]:
    reader = ArtifactReader(open_location(str(out)), "orders-checked")
    if not reader.paths(name):
        return []
    return reader.dataset(name).to_table().to_pylist()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


RULE_CASES = [
    pytest.param(
        {"rule": "not_null", "column": "x"},
        pa.record_batch({"x": [1, None, 3]}),
        [None, "not_null(x)", None],
        id="not_null",
    ),
    pytest.param(
        {"rule": "accepted_values", "column": "x", "values": ["a", "b"]},
        pa.record_batch({"x": ["a", "c", None, "b"]}),
        [None, "accepted_values(x)", None, None],
        id="accepted_values-text-null-passes",
    ),
    pytest.param(
        {"rule": "accepted_values", "column": "x", "values": [1, 2]},
        pa.record_batch({"x": [2, 3, None]}),
        [None, "accepted_values(x)", None],
        id="accepted_values-int",
    ),
    pytest.param(
        {"rule": "accepted_values", "column": "x", "values": [1, "new", True]},
        pa.record_batch({"x": ["new", "1", "shipped", "true"]}),
        [None, None, "accepted_values(x)", None],
        id="accepted_values-numbers-against-text",
    ),
    pytest.param(
        {"rule": "range", "column": "x", "min": 0, "max": 10},
        pa.record_batch({"x": [0.0, 10.0, -0.5, 10.5, None]}),
        [None, None, "range(x)", "range(x)", None],
        id="range-inclusive",
    ),
    pytest.param(
        {"rule": "range", "column": "x", "min": 0, "max": 10, "inclusive": False},
        pa.record_batch({"x": [0, 5, 10]}),
        ["range(x)", None, "range(x)"],
        id="range-exclusive",
    ),
    pytest.param(
        {"rule": "range", "column": "d", "min": "2024-01-01"},
        pa.record_batch({"d": [dt.date(2023, 12, 31), dt.date(2024, 1, 1), None]}),
        ["range(d)", None, None],
        id="range-date-bound",
    ),
    pytest.param(
        {"rule": "regex", "column": "x", "pattern": "^[a-z]+@[a-z]+\\.com$"},
        pa.record_batch({"x": ["a@b.com", "a@b.org", None, "xa@b.com!"]}),
        [None, "regex(x)", None, "regex(x)"],
        id="regex-null-passes",
    ),
    pytest.param(
        {"rule": "regex", "column": "x", "pattern": "^[0-9]{3}$"},
        pa.record_batch({"x": [123, 12]}),
        [None, "regex(x)"],
        id="regex-on-number-as-text",
    ),
    pytest.param(
        {"rule": "sql", "name": "a_below_b", "predicate": "a < b"},
        pa.record_batch({"a": [1, 5, None], "b": [2, 4, 1]}),
        [None, "sql(a_below_b)", "sql(a_below_b)"],
        id="sql-null-fails",
    ),
    pytest.param(
        {"rule": "unique", "columns": ["a", "b"]},
        pa.record_batch({"a": [1, 1, 1, None, None], "b": ["x", "y", "x", "x", "x"]}),
        [None, None, "unique(a, b)", None, None],
        id="unique-compound-null-keys-not-compared",
    ),
]


@pytest.mark.parametrize(("rule", "batch", "reasons"), RULE_CASES)
def test_each_rule_routes_rows(
    tmp_path: Path, rule: dict[str, Any], batch: pa.RecordBatch, reasons: list[str | None]
) -> None:
    result, out = check(tmp_path, make_input(tmp_path, batch), [rule], threshold=0)
    assert result.returncode == 0, result.stderr
    rows = batch.to_pylist()
    assert part(out, "data") == [r for r, why in zip(rows, reasons, strict=True) if why is None]
    assert part(out, "quarantine") == [
        {**r, "_ferry_reason": why} for r, why in zip(rows, reasons, strict=True) if why
    ]


ORDERS = pa.record_batch(
    {
        "order_id": [1, 2, 2, None, 5, 6],
        "status": ["new", "lost", "new", "new", None, "paid"],
        "amount": [10.0, -1.0, 5.0, 3.0, 4.0, 2.5],
        "email": ["a@x.io", "b@x.io", "bad", "c@x.io", "d@x.io", "e@x.io"],
    }
)
ORDER_RULES = [
    {"rule": "not_null", "column": "order_id"},
    {"rule": "unique", "columns": "order_id"},
    {"rule": "accepted_values", "column": "status", "values": ["new", "paid"]},
    {"rule": "range", "column": "amount", "min": 0},
    {"rule": "regex", "column": "email", "pattern": "@"},
    {"rule": "row_count", "min": 1, "max": 100},
]


def test_quarantine_rows_reasons_report_and_outputs(tmp_path: Path) -> None:
    result, out = check(tmp_path, make_input(tmp_path, ORDERS), ORDER_RULES, threshold=0.5)
    assert result.returncode == 0, result.stderr
    rows = ORDERS.to_pylist()
    assert part(out, "data") == [rows[0], rows[4], rows[5]]
    assert part(out, "quarantine") == [
        {**rows[1], "_ferry_reason": "accepted_values(status); range(amount)"},
        {**rows[2], "_ferry_reason": "unique(order_id); regex(email)"},
        {**rows[3], "_ferry_reason": "not_null(order_id)"},
    ]
    report = json.loads((out / "report.json").read_text())
    assert report == {
        "rows_in": 6,
        "rows_out": 3,
        "rows_rejected": 3,
        "quality_score": 0.5,
        "threshold": 0.5,
        "unique_policy": "the first occurrence in input order passes; later ones are rejected",
        "rules": [
            {
                "name": "not_null(order_id)",
                "rule": ORDER_RULES[0],
                "failed_rows": 1,
                "sample": [{"row": 3, "value": None}],
            },
            {
                "name": "unique(order_id)",
                "rule": {"rule": "unique", "columns": ["order_id"]},
                "failed_rows": 1,
                "sample": [{"row": 2, "value": 2}],
            },
            {
                "name": "accepted_values(status)",
                "rule": ORDER_RULES[2],
                "failed_rows": 1,
                "sample": [{"row": 1, "value": "lost"}],
            },
            {
                "name": "range(amount)",
                "rule": {**ORDER_RULES[3], "max": None, "inclusive": True},
                "failed_rows": 1,
                "sample": [{"row": 1, "value": -1.0}],
            },
            {
                "name": "regex(email)",
                "rule": ORDER_RULES[4],
                "failed_rows": 1,
                "sample": [{"row": 2, "value": "bad"}],
            },
        ],
        "row_count": [
            {
                "name": "row_count(min=1, max=100)",
                "min": 1,
                "max": 100,
                "rows": 6,
                "passed": True,
                "note": "dataset-level rule: a violation fails the step, no row is rejected",
            }
        ],
        "passed": True,
        "profile": {
            "rows": 6,
            "columns": [
                {
                    "name": "order_id",
                    "type": "int64",
                    "nulls": 1,
                    "null_share": 0.166667,
                    "distinct_estimate": 4,
                    "min": 1,
                    "max": 6,
                    "mean": 3.2,
                },
                {
                    "name": "status",
                    "type": "string",
                    "nulls": 1,
                    "null_share": 0.166667,
                    "distinct_estimate": 3,
                    "top_values": [
                        {"value": "new", "count": 3},
                        {"value": "lost", "count": 1},
                        {"value": "paid", "count": 1},
                    ],
                },
                {
                    "name": "amount",
                    "type": "float64",
                    "nulls": 0,
                    "null_share": 0.0,
                    "distinct_estimate": 6,
                    "min": -1.0,
                    "max": 10.0,
                    "mean": 23.5 / 6,
                },
                {
                    "name": "email",
                    "type": "string",
                    "nulls": 0,
                    "null_share": 0.0,
                    "distinct_estimate": 6,
                    "top_values": [
                        {"value": v, "count": 1}
                        for v in ["a@x.io", "b@x.io", "bad", "c@x.io", "d@x.io"]
                    ],
                },
            ],
        },
        "profile_drift": {"factor": 2.0, "previous_run": None, "moves": []},
    }
    outputs = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    assert outputs == {
        "rows_in": "6",
        "rows_out": "3",
        "rows_rejected": "3",
        "quality_score": "0.500000",
        "input_rows": '{"orders":6}',
        "warning": "",
        "cached": "",
    }


def test_below_threshold_fails_after_committing_everything(tmp_path: Path) -> None:
    result, out = check(tmp_path, make_input(tmp_path, ORDERS), ORDER_RULES, threshold=0.9)
    assert result.returncode == 3
    assert last_line(result.stderr) == (
        "ferry: pipeline 'p', step 'orders-checked': quality score 0.5000 is below threshold "
        "0.9000 (3/6 rows valid); worst rules: not_null(order_id) 1 row, unique(order_id) 1 row, "
        f"accepted_values(status) 1 row; see quarantine at {out}/quarantine"
    )
    assert len(part(out, "data")) == 3
    assert len(part(out, "quarantine")) == 3
    assert json.loads((out / "report.json").read_text())["passed"] is False
    outputs = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    assert outputs == {
        "rows_in": "6",
        "rows_out": "3",
        "rows_rejected": "3",
        "quality_score": "0.500000",
        "input_rows": '{"orders":6}',
        "warning": "",
        "cached": "",
    }


def test_a_warn_gate_below_threshold_succeeds_with_the_warning(tmp_path: Path) -> None:
    result, out = check(
        tmp_path, make_input(tmp_path, ORDERS), ORDER_RULES, threshold=0.9, severity="warn"
    )
    assert result.returncode == 0, result.stderr
    warning = (
        "quality score 0.5000 is below threshold 0.9000 (3/6 rows valid); worst rules: "
        "not_null(order_id) 1 row, unique(order_id) 1 row, accepted_values(status) 1 row; "
        f"see quarantine at {out}/quarantine"
    )
    outputs = {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}
    assert outputs["warning"] == warning
    assert (outputs["rows_out"], outputs["rows_rejected"]) == ("3", "3")
    assert len(part(out, "data")) == 3
    assert len(part(out, "quarantine")) == 3
    assert json.loads((out / "report.json").read_text())["passed"] is False
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"event": "step_warning", "message": warning}.items() <= next(
        e for e in events if e["event"] == "step_warning"
    ).items()


def test_a_warn_gate_above_threshold_has_no_warning(tmp_path: Path) -> None:
    result, _ = check(
        tmp_path, make_input(tmp_path, ORDERS), ORDER_RULES, threshold=0.5, severity="warn"
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs" / "warning").read_text() == ""


def test_worst_rules_are_ordered_by_failed_rows(tmp_path: Path) -> None:
    batch = pa.record_batch({"x": [None, None, 5, 7, 1, 9], "y": ["a", "b", "c", "d", "a", "a"]})
    rules = [
        {"rule": "accepted_values", "column": "y", "values": ["a", "b", "c"]},
        {"rule": "range", "column": "x", "max": 4},
        {"rule": "not_null", "column": "x"},
    ]
    result, out = check(tmp_path, make_input(tmp_path, batch), rules, threshold=0.95)
    assert result.returncode == 3
    assert last_line(result.stderr).endswith(
        "quality score 0.1667 is below threshold 0.9500 (1/6 rows valid); worst rules: "
        "range(x) 3 rows, not_null(x) 2 rows, accepted_values(y) 1 row; "
        f"see quarantine at {out}/quarantine"
    )


def test_unique_across_batches_keeps_the_first_occurrence(tmp_path: Path) -> None:
    first = pa.record_batch({"id": [1, 2, 3], "v": ["a", "b", "c"]})
    second = pa.record_batch({"id": [4, 2, 5], "v": ["d", "e", "f"]})
    third = pa.record_batch({"id": [1, 6, 2], "v": ["g", "h", "i"]})
    uri = make_input(tmp_path, first, second, third)
    rules = [{"rule": "unique", "columns": ["id"]}]
    result, out = check(tmp_path, uri, rules, threshold=0, batch_size=2)
    assert result.returncode == 0, result.stderr
    assert [r["v"] for r in part(out, "data")] == ["a", "b", "c", "d", "f", "h"]
    assert part(out, "quarantine") == [
        {"id": 2, "v": "e", "_ferry_reason": "unique(id)"},
        {"id": 1, "v": "g", "_ferry_reason": "unique(id)"},
        {"id": 2, "v": "i", "_ferry_reason": "unique(id)"},
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["rules"][0]["sample"] == [
        {"row": 4, "value": 2},
        {"row": 6, "value": 1},
        {"row": 8, "value": 2},
    ]


def test_row_count_violation_fails_the_step(tmp_path: Path) -> None:
    batch = pa.record_batch({"x": [1, 2, 3]})
    rules = [{"rule": "not_null", "column": "x"}, {"rule": "row_count", "min": 5}]
    result, out = check(tmp_path, make_input(tmp_path, batch), rules)
    assert result.returncode == 3
    assert last_line(result.stderr) == (
        "ferry: pipeline 'p', step 'orders-checked': row_count(min=5) failed: the input has 3 "
        f"rows; see {out}/report.json"
    )
    report = json.loads((out / "report.json").read_text())
    assert report["row_count"][0]["passed"] is False
    assert report["passed"] is False
    assert report["quality_score"] == 1.0
    assert len(part(out, "data")) == 3


def test_empty_input_passes_and_keeps_the_schema(tmp_path: Path) -> None:
    uri = make_input(tmp_path, pa.record_batch({"x": pa.array([], pa.int32())}))
    result, out = check(tmp_path, uri, [{"rule": "not_null", "column": "x"}])
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(str(out)), "orders-checked")
    assert reader.rows == 0
    assert reader.schema == pa.schema([("x", pa.int32())])
    assert json.loads((out / "report.json").read_text())["quality_score"] == 1.0


def test_unknown_column_is_a_usage_error(tmp_path: Path) -> None:
    uri = make_input(tmp_path, ORDERS)
    result, out = check(tmp_path, uri, [{"rule": "range", "column": "total", "min": 0}])
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        "ferry: pipeline 'p', step 'orders-checked': rule range(total) names column 'total', "
        "which input 'orders' does not have (columns: order_id, status, amount, email); "
        "fix the rule or the upstream step"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param(
            {"rule": "regex", "column": "email", "pattern": "(unclosed"},
            "rule regex(email) is invalid: Invalid Input Error: missing ): (unclosed; fix the rule",
            id="bad-regex",
        ),
        pytest.param(
            {"rule": "regex", "column": "email", "pattern": "(?=a)"},
            "rule regex(email) is invalid: Invalid Input Error: invalid perl operator: (?=; "
            "fix the rule",
            id="regex-outside-re2",
        ),
        pytest.param(
            {"rule": "sql", "name": "broken", "predicate": "amount >"},
            'rule sql(broken) is invalid: Parser Error: syntax error at or near ")"; fix the rule',
            id="bad-sql",
        ),
        pytest.param(
            {"rule": "sql", "name": "typo", "predicate": "amout > 0"},
            'rule sql(typo) is invalid: Binder Error: Referenced column "amout" not found in '
            'FROM clause! Candidate bindings: "amount", "status"; fix the rule',
            id="sql-unknown-column",
        ),
        pytest.param(
            {
                "rule": "sql",
                "name": "outlier",
                "predicate": "amount <= 3 * avg(amount) OVER (PARTITION BY status)",
            },
            "rule sql(outlier) uses a window function (OVER ...), which would see one batch "
            "of rows in no set order, not the whole input; compute the value in the transform "
            "and check its result",
            id="sql-window-function",
        ),
        pytest.param(
            {"rule": "sql", "name": "total", "predicate": "sum(amount) > 0"},
            "rule sql(total) uses the aggregate function sum, which would see one batch of "
            "rows, not the whole input; a sql rule checks each row on its own: use row_count "
            "for counts, or compute the aggregate in a transform and check its result",
            id="sql-aggregate",
        ),
        pytest.param(
            {"rule": "sql", "name": "many", "predicate": "abs(amount) >= 0 and count(*) > 1"},
            "rule sql(many) uses the aggregate function count(*), which would see one batch of "
            "rows, not the whole input; a sql rule checks each row on its own: use row_count "
            "for counts, or compute the aggregate in a transform and check its result",
            id="sql-count-star",
        ),
        pytest.param(
            {"rule": "accepted_values", "column": "amount", "values": ["lots"]},
            "rule accepted_values(amount) is invalid: Conversion Error: Could not convert string "
            "'lots' to DOUBLE; fix the rule",
            id="value-of-the-wrong-type",
        ),
    ],
)
def test_invalid_rule_is_a_usage_error(tmp_path: Path, rule: dict[str, Any], message: str) -> None:
    result, out = check(tmp_path, make_input(tmp_path, ORDERS), [rule])
    assert result.returncode == 2
    assert last_line(result.stderr) == f"ferry: pipeline 'p', step 'orders-checked': {message}"
    assert not out.exists()


def test_rule_models_parse_serialise_and_list_columns() -> None:
    config = ChecksConfig.model_validate_json(
        '{"rules": [{"rule": "unique", "columns": "id"}, {"rule": "row_count", "max": 9}]}'
    )
    assert config.rules == [Unique(columns=["id"]), RowCount(max=9)]
    assert json.loads(config.model_dump_json())["rules"][0] == {
        "rule": "unique",
        "columns": ["id"],
    }
    rules = [
        NotNull(column="a"),
        Unique(columns=["a", "b"]),
        AcceptedValues(column="c", values=["x", 1, True]),
        Range(column="d", min="2024-01-01"),
        Regex(column="e", pattern="^x"),
        RowCount(min=1),
        SqlRule(name="p", predicate="a < b"),
    ]
    assert [r.columns() for r in rules] == [["a"], ["a", "b"], ["c"], ["d"], ["e"], [], []]
    assert [r.label() for r in rules] == [
        "not_null(a)",
        "unique(a, b)",
        "accepted_values(c)",
        "range(d)",
        "regex(e)",
        "row_count(min=1)",
        "sql(p)",
    ]
    assert ChecksConfig(rules=rules).model_dump()["rules"][2]["values"] == ["x", 1, True]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"rules": [{"rule": "range", "column": "a"}]},
            "Value error, range(a) needs min, max or both",
        ),
        ({"rules": [{"rule": "row_count"}]}, "Value error, row_count needs min, max or both"),
        (
            {"rules": [{"rule": "nope", "column": "a"}]},
            "Input tag 'nope' found using 'rule' does not",
        ),
        (
            {"rules": [{"rule": "not_null", "column": "a"}], "threshold": 1.5},
            "less than or equal to 1",
        ),
        ({"rules": []}, "List should have at least 1 item"),
    ],
)
def test_bad_config_is_rejected(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=None) as err:
        ChecksConfig.model_validate(config)
    assert message in str(err.value)


def test_a_value_a_sql_rule_cannot_convert_is_rejected(tmp_path: Path) -> None:
    batch = pa.record_batch({"code": ["1", "2", "x3"]})
    rules = [{"rule": "sql", "name": "positive", "predicate": "CAST(code AS INTEGER) > 0"}]
    result, out = check(tmp_path, make_input(tmp_path, batch), rules)
    assert result.returncode == 3
    assert last_line(result.stderr) == (
        "ferry: pipeline 'p', step 'orders-checked': checking input rows 0..2 failed: Conversion "
        "Error: Could not convert string 'x3' to INT32 when casting from source column code; fix "
        "the rule or the data"
    )
    assert not (out / "_manifest.json").exists()


def _unique_flags_by_strategy(
    tmp_path: Path, keys: list[Any], sizes: list[int], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[bool], bool]:
    """The ``unique`` flags of ``keys`` in batches of ``sizes``; whether seen-flags gave them."""
    from steps.checks import duplicates
    from steps.checks.config import Unique
    from steps.runtime.duckdb_session import connect

    table = pa.table({"id": keys})
    uri = make_input(tmp_path, *table.to_batches())
    reader = ArtifactReader(open_location(uri), "orders")
    monkeypatch.setattr(duplicates, "WINDOW_ROWS", 50)
    con = connect(memory_limit="256MB", temp_directory=str(tmp_path / "spill"))
    try:
        rows = duplicates.DuplicateRows(con, reader, {0: Unique(columns=["id"])}, batch_size=64)
        got: list[bool] = []
        start = 0
        for size in sizes:
            batch = table.slice(start, size).combine_chunks().to_batches()[0]
            got += rows.flag_columns(batch, start)["__ferry_unique_0"].to_pylist()
            start += size
        return got, bool(rows._dense)
    finally:
        con.close()


def _first_occurrence_passes(keys: list[Any]) -> list[bool]:
    seen: set[Any] = set()
    expected = []
    for key in keys:
        expected.append(key is not None and key in seen)
        seen.add(key)
    return expected


BATCH_SIZES = [7, 120, 1, 1500, 372]


@pytest.mark.parametrize(
    ("make_key", "dense"),
    [
        pytest.param(lambda n: n - 150, True, id="integers-narrow-range-seen-flags"),
        pytest.param(lambda n: n * 10**12, False, id="integers-wide-range-two-pass"),
        pytest.param(lambda n: f"k{n}", False, id="text-two-pass"),
    ],
)
def test_unique_keeps_the_first_occurrence_in_input_order_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_key: Any, dense: bool
) -> None:
    import random

    rng = random.Random(7)
    keys = [None if rng.random() < 0.05 else make_key(rng.randrange(300)) for _ in range(2000)]
    got, used_seen_flags = _unique_flags_by_strategy(tmp_path, keys, BATCH_SIZES, monkeypatch)
    assert used_seen_flags is dense
    assert got == _first_occurrence_passes(keys)


def test_seen_flags_need_integer_min_max_statistics_in_every_row_group(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from steps.checks.dense_keys import dense_keys, key_range

    def artifact(name: str, tables: list[pa.Table], **options: Any) -> ArtifactReader:
        folder = tmp_path / name
        (folder / "data").mkdir(parents=True)
        for n, table in enumerate(tables):
            pq.write_table(table, folder / "data" / f"part-{n}.parquet", **options)
        files = [f"data/part-{n}.parquet" for n in range(len(tables))]
        manifest = {"format": "ferry-artifact/1", "files": {"data": files, "quarantine": []}}
        (folder / "_manifest.json").write_text(json.dumps(manifest))
        return ArtifactReader(open_location(str(folder)), name)

    two_files = artifact("two", [pa.table({"id": [5, None, 9]}), pa.table({"id": [-3, 4]})])
    assert key_range(two_files, "id") == (-3, 9)
    nulls_only = artifact("nulls", [pa.table({"id": pa.array([None, None], pa.int64())})])
    assert key_range(nulls_only, "id") is None
    no_stats = artifact("nostats", [pa.table({"id": [1, 2]})], write_statistics=False)
    assert key_range(no_stats, "id") is None
    text = artifact("text", [pa.table({"id": ["a", "b"]})])
    assert key_range(text, "id") is None
    assert dense_keys(two_files, ["id", "id"]) is None  # a compound key goes the general way
    wide = artifact("wide", [pa.table({"id": [0, 1 << 40]})])
    assert dense_keys(wide, ["id"]) is None


def test_a_key_outside_its_statistics_is_an_inconsistent_input() -> None:
    from steps.checks.dense_keys import DenseKeys
    from steps.runtime.errors import StepError

    keys = DenseKeys("id", 0, 9)
    with pytest.raises(StepError) as err:
        keys.flags(pa.record_batch({"id": [3, 12]}))
    assert str(err.value) == (
        "column 'id' holds a value outside the min/max its Parquet statistics give; the input "
        "artifact is inconsistent, rerun the step that wrote it"
    )
