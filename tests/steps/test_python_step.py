"""The ``python`` step: a user's function over real artifacts, streamed, with its errors.

The functions live in ``tests/steps/python_user/ferry_test_fns`` and are imported by the
step from ``PYTHONPATH``, as the local runner makes a pipeline's folder importable.
"""

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from steps.python_step import PythonStepConfig, Rejected, check_function
from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location
from tests.conftest import run_step

USER = Path(__file__).resolve().parent / "python_user"
FNS = "ferry_test_fns"
ORDERS = pa.record_batch(
    {
        "order_id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "customer_id": pa.array([10, 11, 10, 12, 11, 10], pa.int64()),
        "amount": pa.array([5.0, -7.5, 2.5, -150.0, 1.0, -0.5]),
    }
)
CUSTOMERS = pa.record_batch({"customer_id": [10, 11, 12], "name": ["Ada", "Bo", "Cy"]})
WHERE = "ferry: pipeline 'p', step 'enriched'"


def make_artifact(store: Path, step: str, *batches: pa.RecordBatch) -> str:
    uri = str(store / "artifacts" / "r1" / step)
    writer = ArtifactWriter(open_location(uri), pipeline="p", step=step, run_id="r1")
    for batch in batches:
        writer.write(batch)
    writer.commit()
    return uri


def python_step(
    tmp_path: Path, inputs: dict[str, str], function: str, **config: Any
) -> tuple[Any, str]:
    out = str(tmp_path / "artifacts" / "r1" / "enriched")
    config = {"function": function, "inputs": list(inputs), **config}
    result = run_step(
        "python",
        *("--pipeline", "p", "--step", "enriched", "--run-id", "r1", "--store", str(tmp_path)),
        *(arg for name, uri in inputs.items() for arg in ("--input", f"{name}={uri}")),
        *("--output", out, "--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), "PYTHONPATH": str(USER)},
    )
    return result, out


def outputs(tmp_path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (tmp_path / "outputs").iterdir()}


def rows(out: str, part: str = "data") -> list[dict[str, Any]]:
    reader = ArtifactReader(open_location(out), "enriched")
    if not reader.paths(part):
        return []
    return reader.dataset(part).to_table().to_pylist()


def events(stdout: str, name: str) -> dict[str, Any]:
    parsed = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return next(e for e in parsed if e["event"] == name)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture
def orders(tmp_path: Path) -> str:
    """Six orders in one file of two row groups of 3 (read across them in ``batch_size``)."""
    return make_artifact(tmp_path, "orders", ORDERS.slice(0, 3), ORDERS.slice(3))


# --- streaming and the function contract ---------------------------------------------------


def test_two_inputs_stream_in_order_batch_by_batch(tmp_path: Path, orders: str) -> None:
    customers = make_artifact(tmp_path, "customers", CUSTOMERS)
    result, out = python_step(
        tmp_path, {"orders": orders, "customers": customers}, f"{FNS}.basic:tag", batch_size=2
    )
    assert result.returncode == 0, result.stderr
    assert rows(out) == [
        {"input": "orders", "batch": 0, "first_id": 1, "rows": 2},
        {"input": "customers", "batch": 0, "first_id": 10, "rows": 2},
        {"input": "orders", "batch": 1, "first_id": 3, "rows": 2},
        {"input": "customers", "batch": 1, "first_id": 12, "rows": 1},
        {"input": "orders", "batch": 2, "first_id": 5, "rows": 2},
    ]
    assert outputs(tmp_path) == {  # rows_in is what the function read
        "rows_in": "9",
        "rows_out": "5",
        "rows_rejected": "0",
        "quality_score": "1.000000",
        "input_rows": '{"orders":6,"customers":3}',
        "warning": "",
        "cached": "",
    }
    inputs_event = events(result.stdout, "python_inputs")
    assert inputs_event["rows"] == {"orders": 6, "customers": 3}
    assert inputs_event["rows_available"] == {"orders": 6, "customers": 3}
    manifest = ArtifactReader(open_location(out), "enriched").manifest
    assert manifest["rows_read"] == {"orders": 6, "customers": 3}


def test_input_order_follows_config_not_command_line(tmp_path: Path, orders: str) -> None:
    customers = make_artifact(tmp_path, "customers", CUSTOMERS)
    out = str(tmp_path / "artifacts" / "r1" / "enriched")
    config = {"function": f"{FNS}.basic:tag", "inputs": ["customers", "orders"]}
    result = run_step(
        "python",
        *("--pipeline", "p", "--step", "enriched", "--run-id", "r1", "--store", str(tmp_path)),
        *("--input", f"orders={orders}", "--input", f"customers={customers}"),
        *("--output", out, "--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), "PYTHONPATH": str(USER)},
    )
    assert result.returncode == 0, result.stderr
    # the first positional argument is customers, which tag() labels "orders"
    assert [r["first_id"] for r in rows(out)][:2] == [10, 1]


def test_rows_read_counts_what_the_function_took(tmp_path: Path, orders: str) -> None:
    customers = make_artifact(tmp_path, "customers", CUSTOMERS)
    result, out = python_step(
        tmp_path,
        {"orders": orders, "customers": customers},
        f"{FNS}.basic:first_only",
        batch_size=2,
    )
    assert result.returncode == 0, result.stderr
    assert rows(out) == [r for r in ORDERS.slice(0, 2).to_pylist()]
    assert events(result.stdout, "python_inputs")["rows"] == {"orders": 2, "customers": 0}
    assert outputs(tmp_path)["rows_in"] == "2"


def test_harness_reads_and_writes_one_batch_at_a_time(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.lazy:probe", batch_size=2)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("EVENTS "))
    assert line.removeprefix("EVENTS ").split("|") == [
        "read orders 0", "saw 0", "wrote 2",
        "read orders 1", "saw 1", "wrote 2",
        "read orders 2", "saw 2", "wrote 2",
        "wrote 1", "done",
    ]  # fmt: skip
    assert [r["order_id"] for r in rows(out)] == [1, 2, 3, 4, 5, 6, -1]
    assert (outputs(tmp_path)["rows_in"], outputs(tmp_path)["rows_out"]) == ("6", "7")


def test_params_are_passed_as_keyword(tmp_path: Path, orders: str) -> None:
    params = {"factor": 2, "label": "x2"}
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:scaled", params=params)
    assert result.returncode == 0, result.stderr
    assert rows(out)[:2] == [
        {"order_id": 1, "amount": 10.0, "label": "x2"},
        {"order_id": 2, "amount": -15.0, "label": "x2"},
    ]


def test_params_parameter_gets_empty_params_when_none_given(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:positional_params")
    assert result.returncode == 0, result.stderr
    assert {r["note"] for r in rows(out)} == {"none"}


def test_rejected_rows_go_to_quarantine_with_reason(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:reject_negative")
    assert result.returncode == 0, result.stderr
    assert [r["order_id"] for r in rows(out)] == [1, 3, 5]
    assert rows(out, "quarantine") == [
        {"order_id": 2, "customer_id": 11, "amount": -7.5, "_ferry_reason": "amount < 0"},
        {"order_id": 6, "customer_id": 10, "amount": -0.5, "_ferry_reason": "amount < 0"},
        {"order_id": 4, "customer_id": 12, "amount": -150.0, "_ferry_reason": "amount < -100"},
    ]
    assert outputs(tmp_path) == {
        "rows_in": "6",
        "rows_out": "3",
        "rows_rejected": "3",
        "quality_score": "0.500000",
        "input_rows": '{"orders":6}',
        "warning": "",
        "cached": "",
    }
    manifest = ArtifactReader(open_location(out), "enriched").manifest
    assert manifest["rows"] == {"data": 3, "quarantine": 3}


def test_tables_are_accepted_and_columns_reordered(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:tables")
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "enriched")
    assert reader.schema.names == ["amount", "customer_id", "order_id"]
    assert reader.rows == 6


def test_declared_columns_cast_each_batch(tmp_path: Path, orders: str) -> None:
    columns = {"order_id": "int32", "amount": "decimal(10,2)", "customer_id": "string"}
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:as_is", columns=columns)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "enriched")
    assert reader.schema == pa.schema(
        [("order_id", pa.int32()), ("amount", pa.decimal128(10, 2)), ("customer_id", pa.string())]
    )
    assert rows(out)[1] == {"order_id": 2, "amount": Decimal("-7.50"), "customer_id": "11"}


def test_empty_output_keeps_the_declared_schema(tmp_path: Path, orders: str) -> None:
    result, out = python_step(
        tmp_path, {"orders": orders}, f"{FNS}.basic:nothing", columns={"n": "int64"}
    )
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "enriched")
    assert reader.rows == 0
    assert reader.schema == pa.schema([("n", pa.int64())])
    assert (outputs(tmp_path)["rows_in"], outputs(tmp_path)["rows_out"]) == ("6", "0")
    assert events(result.stdout, "python_inputs")["rows"] == {"orders": 6}


def test_a_function_may_return_an_iterable(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:returns_list")
    assert result.returncode == 0, result.stderr
    assert rows(out) == ORDERS.to_pylist()


def test_input_iterator_has_the_schema(tmp_path: Path, orders: str) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, f"{FNS}.basic:schema_from_input")
    assert result.returncode == 0, result.stderr
    assert rows(out) == [{"columns": "order_id,customer_id,amount"}]


def test_variadic_function_takes_every_input(tmp_path: Path, orders: str) -> None:
    other = make_artifact(tmp_path, "more", ORDERS.slice(0, 1))
    result, out = python_step(tmp_path, {"orders": orders, "more": other}, f"{FNS}.wrong:variadic")
    assert result.returncode == 0, result.stderr
    assert [r["order_id"] for r in rows(out)] == [1, 2, 3, 4, 5, 6, 1]


def test_large_batches_are_written_in_batch_size_slices(tmp_path: Path) -> None:
    big = make_artifact(tmp_path, "orders", pa.record_batch({"n": pa.array(range(10))}))
    result, out = python_step(tmp_path, {"orders": big}, f"{FNS}.basic:whole", batch_size=4)
    assert result.returncode == 0, result.stderr
    (path,) = ArtifactReader(open_location(out), "enriched").paths()
    metadata = pq.ParquetFile(path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [4, 4, 2]
    assert [r["n"] for r in rows(out)] == list(range(10))


def test_reads_and_writes_s3_artifacts(s3_bucket: str, tmp_path: Path) -> None:
    store = f"{s3_bucket}/ferry"
    uri = f"{store}/artifacts/r1/orders"
    writer = ArtifactWriter(open_location(uri), pipeline="p", step="orders", run_id="r1")
    writer.write(ORDERS)
    writer.commit()
    out = f"{store}/artifacts/r1/enriched"
    config = {"function": f"{FNS}.basic:reject_negative", "inputs": ["orders"]}
    result = run_step(
        "python",
        *("--pipeline", "p", "--step", "enriched", "--run-id", "r1", "--store", store),
        *("--input", f"orders={uri}", "--output", out, "--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), "PYTHONPATH": str(USER)},
    )
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "enriched")
    assert reader.manifest["rows"] == {"data": 3, "quarantine": 3}
    assert reader.manifest["rows_read"] == {"orders": 6}
    assert [r["order_id"] for r in reader.dataset().to_table().to_pylist()] == [1, 3, 5]


# --- the function's output is wrong: exit 2 (or 3 for a value), nothing committed ----------


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (
            "amount_turns_text",
            "yielded output with column 'amount' of type string, but the first output batch "
            "had float64; yield the same types in every batch, or declare columns to have them "
            "cast",
        ),
        (
            "drops_column",
            "yielded output without column 'amount', which the first output batch had "
            "(columns: order_id, customer_id, amount); yield the same columns in every batch, "
            "or declare columns (order_id, customer_id, amount)",
        ),
        (
            "adds_column",
            "yielded output with column 'extra', which is not one the first output batch had "
            "(columns: order_id, customer_id, amount); yield the same columns in every batch, "
            "or declare columns (order_id, customer_id, amount)",
        ),
        (
            "yields_dict",
            "yielded a dict; yield pyarrow.RecordBatch, pyarrow.Table or Rejected items",
        ),
        (
            "returns_none",
            "returned a NoneType, not an iterable; yield pyarrow.RecordBatch, pyarrow.Table or "
            "Rejected items",
        ),
        (
            "returns_table",
            "returned a pyarrow.lib.Table instead of yielding it; use yield (the function must "
            "be a generator or return an iterable)",
        ),
        (
            "rejected_shape_changes",
            "yielded rejected rows without column 'amount', which the first rejected rows batch "
            "had (columns: order_id, customer_id, amount); yield the same columns in every "
            "batch, or declare columns (order_id, customer_id, amount)",
        ),
        (
            "rejected_with_reason_column",
            "yielded a Rejected whose rows have a '_ferry_reason' column; the step adds it from "
            "reason: drop the column",
        ),
        (
            "bad_rejected",
            "yielded a Rejected without a reason (''); give Rejected(rows, reason='why') a "
            "non-empty text",
        ),
    ],
)
def test_wrong_output_exits_2_naming_function_and_column(
    tmp_path: Path, orders: str, function: str, message: str
) -> None:
    spec = f"{FNS}.wrong:{function}"
    result, out = python_step(tmp_path, {"orders": orders}, spec, batch_size=3)
    assert result.returncode == 2, result.stderr
    assert last_line(result.stderr) == f"{WHERE}: function {spec!r} {message}"
    assert not Path(out, "_manifest.json").exists()


def test_declared_column_missing_exits_2(tmp_path: Path, orders: str) -> None:
    spec = f"{FNS}.basic:as_is"
    columns = {"order_id": "int64", "total": "float64"}
    result, _ = python_step(tmp_path, {"orders": orders}, spec, columns=columns)
    assert result.returncode == 2, result.stderr
    assert last_line(result.stderr) == (
        f"{WHERE}: function {spec!r} yielded output without column 'total', which columns "
        "declares (columns: order_id, total); yield exactly the declared columns, or change "
        "columns"
    )


def test_declared_type_without_cast_exits_2(tmp_path: Path, orders: str) -> None:
    spec = f"{FNS}.basic:as_is"
    columns = {"order_id": "date", "customer_id": "int64", "amount": "float64"}
    result, _ = python_step(tmp_path, {"orders": orders}, spec, columns=columns)
    assert result.returncode == 2, result.stderr
    assert last_line(result.stderr) == (
        f"{WHERE}: function {spec!r} yielded output with column 'order_id' of type int64, which "
        "cannot be cast to the declared date; fix the function or the declared type"
    )


def test_value_that_does_not_fit_declared_type_exits_3(tmp_path: Path) -> None:
    big = make_artifact(tmp_path, "orders", pa.record_batch({"n": pa.array([1, 2**40])}))
    spec = f"{FNS}.basic:as_is"
    result, _ = python_step(tmp_path, {"orders": big}, spec, columns={"n": "int32"})
    assert result.returncode == 3, result.stderr
    assert last_line(result.stderr).startswith(
        f"{WHERE}: function {spec!r} yielded output whose column 'n' (int64) has a value that "
        "does not fit the declared int32: Integer value 1099511627776 not in range"
    )


# --- exceptions in the function -------------------------------------------------------------


def test_exception_in_function_exits_1_with_traceback(tmp_path: Path, orders: str) -> None:
    spec = f"{FNS}.wrong:boom"
    result, out = python_step(tmp_path, {"orders": orders}, spec)
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == (
        f"{WHERE}: function {spec!r} raised ValueError: order 3 has no amount; fix the "
        "function or its input (traceback above)"
    )
    assert "Traceback (most recent call last)" in result.stderr
    assert 'ferry_test_fns/wrong.py", line' in result.stderr
    assert not Path(out, "_manifest.json").exists()


def test_exception_when_called_exits_1(tmp_path: Path, orders: str) -> None:
    spec = f"{FNS}.wrong:raises_at_call"
    result, _ = python_step(tmp_path, {"orders": orders}, spec)
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == (
        f"{WHERE}: function {spec!r} raised KeyError: 'region'; fix the function or its "
        "input (traceback above)"
    )


def test_data_rejected_keeps_exit_3(tmp_path: Path, orders: str) -> None:
    result, _ = python_step(tmp_path, {"orders": orders}, f"{FNS}.wrong:stale")
    assert result.returncode == 3, result.stderr
    assert last_line(result.stderr) == (
        f"{WHERE}: orders are stale: newest is 2020-01-01; rerun the extract"
    )


# --- a function the step cannot call: exit 2 before reading anything ------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "ferry_test_fns.basic.tag",
            "invalid python config at function: Value error, function "
            "'ferry_test_fns.basic.tag' is not 'package.module:function'; write the module's "
            "import path, a colon and the function's name, e.g. 'my_steps.orders:enrich'",
        ),
        (
            "ferry_no_such_package.orders:enrich",
            "function 'ferry_no_such_package.orders:enrich': module "
            "'ferry_no_such_package.orders' is not importable (no module named "
            "'ferry_no_such_package'); install its package into the step image, or put it in "
            "the pipeline's folder for a local run",
        ),
        (
            f"{FNS}.basic:no_such_function",
            f"function '{FNS}.basic:no_such_function': module '{FNS}.basic' has no attribute "
            "'no_such_function'; fix the function's name or define it in the module",
        ),
        (
            f"{FNS}.wrong:two_inputs",
            f"function '{FNS}.wrong:two_inputs' requires 2 positional parameters but the step "
            "has 1 input: nothing is given for customers; give it one parameter per input, in "
            "the order of inputs",
        ),
    ],
)
def test_function_the_step_cannot_call_exits_2(
    tmp_path: Path, orders: str, spec: str, message: str
) -> None:
    result, out = python_step(tmp_path, {"orders": orders}, spec)
    assert result.returncode == 2, result.stderr
    assert last_line(result.stderr) == f"{WHERE}: {message}"
    assert "Traceback" not in result.stderr
    assert not Path(out).exists()


def test_input_names_must_match_the_command_line(tmp_path: Path, orders: str) -> None:
    out = str(tmp_path / "artifacts" / "r1" / "enriched")
    config = {"function": f"{FNS}.basic:as_is", "inputs": ["orders"]}
    result = run_step(
        "python",
        *("--pipeline", "p", "--step", "enriched", "--run-id", "r1", "--store", str(tmp_path)),
        *("--input", f"orders={orders}", "--input", f"other={orders}"),
        *("--output", out, "--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs"), "PYTHONPATH": str(USER)},
    )
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        f"{WHERE}: --input 'other' is not one of the config's inputs (orders); list it in "
        "inputs or drop the --input"
    )


# --- check_function (render time) ------------------------------------------------------------


@pytest.fixture
def user_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(USER))
    for name in [m for m in sys.modules if m.startswith(FNS)]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize(
    ("spec", "inputs", "has_params"),
    [
        (f"{FNS}.basic:tag", 2, False),
        (f"{FNS}.basic:scaled", 1, True),
        (f"{FNS}.basic:scaled", 1, False),
        (f"{FNS}.basic:positional_params", 1, True),
        (f"{FNS}.wrong:variadic", 3, False),
    ],
)
def test_check_function_accepts(user_path: None, spec: str, inputs: int, has_params: bool) -> None:
    check_function(spec, inputs, has_params=has_params)


@pytest.mark.parametrize(
    ("spec", "inputs", "has_params", "message"),
    [
        (
            "enrich",
            1,
            False,
            "function 'enrich' is not 'package.module:function'; write the module's import "
            "path, a colon and the function's name, e.g. 'my_steps.orders:enrich'",
        ),
        (
            f"{FNS}.imports_missing:f",
            1,
            False,
            f"function '{FNS}.imports_missing:f': importing module '{FNS}.imports_missing' "
            "failed: no module named 'ferry_no_such_dependency'; install what the module "
            "imports into the step image",
        ),
        (
            f"{FNS}.fails_on_import:f",
            1,
            False,
            f"function '{FNS}.fails_on_import:f': importing module '{FNS}.fails_on_import' "
            "failed: RuntimeError: ORDERS_REGION is not set; fix the module",
        ),
        (
            f"{FNS}.wrong:NOT_CALLABLE",
            1,
            False,
            f"function '{FNS}.wrong:NOT_CALLABLE' is a int, not a function; name a function "
            "defined with def",
        ),
        (
            f"{FNS}.basic:tag",
            3,
            False,
            f"function '{FNS}.basic:tag' takes 2 positional parameters but the step has 3 "
            "inputs; give it one parameter per input, in the order of inputs (or *args)",
        ),
        (
            f"{FNS}.basic:as_is",
            1,
            True,
            f"function '{FNS}.basic:as_is' has no params parameter but the step gives it "
            "params; add a keyword parameter `*, params` to the function or drop params from "
            "the step",
        ),
        (
            f"{FNS}.wrong:params_first",
            1,
            True,
            f"function '{FNS}.wrong:params_first' has its params parameter at position 1, "
            "before all 1 input; put params after the input parameters, or make it "
            "keyword-only (`*, params`)",
        ),
        (
            f"{FNS}.wrong:needs_option",
            1,
            False,
            f"function '{FNS}.wrong:needs_option' requires keyword-only parameter 'option', "
            "which the step does not give; give it a default, or read it from params",
        ),
        (
            f"{FNS}.wrong:asynchronous",
            1,
            False,
            f"function '{FNS}.wrong:asynchronous' is async; write a plain function or "
            "generator (def ... yield)",
        ),
    ],
)
def test_check_function_refuses_with_one_line(
    user_path: None, spec: str, inputs: int, has_params: bool, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        check_function(spec, inputs, has_params=has_params)
    assert str(caught.value) == message


# --- the config -------------------------------------------------------------------------------


def test_config_declares_columns_and_refuses_bad_ones() -> None:
    config = PythonStepConfig(
        function="m.n:f", inputs=["a", "b"], columns={"x": "int64", "y": "string"}
    )
    assert config.declared_columns() == ["x", "y"]
    assert PythonStepConfig(function="m:f", inputs=["a"]).declared_columns() is None
    with pytest.raises(ValidationError, match="unknown type 'int'"):
        PythonStepConfig(function="m:f", inputs=["a"], columns={"x": "int"})
    with pytest.raises(ValidationError, match="input 'a' is listed twice"):
        PythonStepConfig(function="m:f", inputs=["a", "a"])
    with pytest.raises(ValidationError, match="Field required"):
        PythonStepConfig.model_validate({"function": "m:f"})


def test_config_params_must_be_json_values() -> None:
    config = PythonStepConfig(function="m:f", inputs=["a"], params={"k": [1, {"x": None}]})
    assert json.loads(config.model_dump_json())["params"] == {"k": [1, {"x": None}]}
    with pytest.raises(ValidationError):
        PythonStepConfig(function="m:f", inputs=["a"], params={"k": object()})


def test_rejected_is_plain_data() -> None:
    batch = pa.record_batch({"a": [1]})
    rejected = Rejected(batch, reason="why")
    assert (rejected.rows, rejected.reason) == (batch, "why")
