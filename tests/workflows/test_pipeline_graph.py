"""Pipelines as graphs: any number of each node kind, wired by input/inputs, rendered as a DAG."""

import json
from typing import Any

import pytest
from pipeline_fakes import FakeExtract, FakeLoad

import workflows
from workflows import Checks, NotNull, Pipeline, Source, Target, Transform
from workflows.errors import DefinitionError
from workflows.render import render_pipeline
from workflows.validation import validate_pipeline


def dag(pipeline: Pipeline) -> dict[str, list[str]]:
    validate_pipeline(pipeline)
    tasks = render_pipeline(pipeline).workflow["spec"]["templates"][0]["dag"]["tasks"]
    return {t["name"]: t.get("dependencies", []) for t in tasks}


def config_of(pipeline: Pipeline, step: str) -> dict[str, Any]:
    for template in render_pipeline(pipeline).workflow["spec"]["templates"]:
        if template["name"] == step:
            args = template["container"]["args"]
            return json.loads(args[args.index("--config") + 1])  # type: ignore[no-any-return]
    raise AssertionError(step)


def source(name: str = "raw", columns: list[str] | None = None) -> Source:
    return Source(name=name, config=FakeExtract(path="in", columns=columns or ["id", "x"]))


def error_of(pipeline: Pipeline) -> str:
    with pytest.raises(DefinitionError) as info:
        validate_pipeline(pipeline)
    return str(info.value)


def test_chained_transforms_and_checks_after_a_transform() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(),
            Transform(name="staging", inputs=["raw"], sql="select * from raw"),
            Transform(name="clean", inputs=["staging"], sql="select * from staging"),
            Checks(name="clean-checked", input="clean", rules=[NotNull(column="id")]),
            Transform(name="mart", inputs=["clean-checked", "raw"], sql="select 1 as n"),
            Target(name="out", input="mart", config=FakeLoad(path="o")),
        ],
    )
    assert dag(pipeline) == {
        "raw": [],
        "staging": ["raw"],
        "clean": ["staging"],
        "clean-checked": ["clean"],
        "mart": ["clean-checked", "raw"],
        "out": ["mart"],
    }


def test_two_targets_on_one_step_and_a_target_on_a_source() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(),
            Checks(name="valid", input="raw", rules=[NotNull(column="id")]),
            Target(name="a", input="valid", config=FakeLoad(path="a")),
            Target(name="b", input="valid", config=FakeLoad(path="b")),
            Target(name="copy", input="raw", config=FakeLoad(path="c")),
        ],
    )
    assert dag(pipeline) == {
        "raw": [],
        "valid": ["raw"],
        "a": ["valid"],
        "b": ["valid"],
        "copy": ["raw"],
    }


def test_a_warn_gate_renders_its_severity() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(),
            Checks(name="valid", input="raw", severity="warn", rules=[NotNull(column="id")]),
            Target(name="out", input="valid", config=FakeLoad(path="o")),
        ],
    )
    validate_pipeline(pipeline)
    assert config_of(pipeline, "valid")["severity"] == "warn"
    assert config_of(pipeline, "valid")["threshold"] == 0.95


def test_a_bad_severity_names_the_values() -> None:
    with pytest.raises(ValueError, match="Input should be 'error' or 'warn'"):
        Checks(name="valid", input="raw", severity="fatal", rules=[NotNull(column="id")])  # type: ignore[arg-type]


def test_a_cycle_across_three_steps_is_named_in_order() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(),
            Transform(name="a", inputs=["raw", "c"], sql="select 1"),
            Transform(name="b", inputs=["a"], sql="select 1"),
            Transform(name="c", inputs=["b"], sql="select 1"),
            Target(name="out", input="c", config=FakeLoad(path="o")),
        ],
    )
    assert error_of(pipeline) == (
        "pipeline 'g', step 'a', field 'inputs': steps form a cycle: a -> b -> c -> a; break it"
    )


def test_a_target_key_missing_from_the_upstream_columns() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(columns=["order_id", "amount"]),
            Checks(name="valid", input="raw", rules=[NotNull(column="amount")]),
            Target(name="out", input="valid", config=FakeLoad(path="o", key=["orderid"])),
        ],
    )
    assert error_of(pipeline) == (
        "pipeline 'g', step 'out', field 'config.key': column 'orderid' is not among the "
        "columns of 'valid'; did you mean 'order_id'? its columns: order_id, amount"
    )


def test_target_columns_after_a_transform_are_not_guessed() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(columns=["order_id"]),
            Transform(name="t", inputs=["raw"], sql="select order_id as k from raw"),
            Target(name="out", input="t", config=FakeLoad(path="o", key=["k"])),
        ],
    )
    validate_pipeline(pipeline)


def test_partition_by_of_the_real_dataset_load_is_checked() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(columns=["day", "n"]),
            Target(
                name="out",
                input="raw",
                config=workflows.ParquetDatasetLoad(
                    path="o", partition_by=["date"], mode="overwrite-partitions"
                ),
            ),
        ],
    )
    assert error_of(pipeline) == (
        "pipeline 'g', step 'out', field 'config.partition_by': column 'date' is not among the "
        "columns of 'raw'; its columns: day, n"
    )


def test_a_misspelt_field_names_the_field_meant() -> None:
    with pytest.raises(ValueError) as info:
        Checks(name="valid", inputs=["raw"], rules=[NotNull(column="id")])  # type: ignore[call-arg]
    assert "Checks 'valid' has no field 'inputs'; did you mean 'input'?" in str(info.value)
    with pytest.raises(ValueError) as info:
        Transform(name="t", input="raw", sql="select 1")  # type: ignore[call-arg]
    assert "Transform 't' has no field 'input'; did you mean 'inputs'?" in str(info.value)


def test_the_public_api_is_one_import() -> None:
    needed = {
        "Pipeline", "Source", "Checks", "Transform", "Target", "FilesExtract", "HttpExtract",
        "SqlExtract", "ParquetDatasetLoad", "SqlTableLoad", "NotNull", "Unique",
        "AcceptedValues", "Range", "Regex", "RowCount", "SqlRule", "Cursor", "SecretRef",
        "Schedule", "RetryPolicy", "Resources", "param",
    }  # fmt: skip
    assert needed <= set(workflows.__all__)
    for name in workflows.__all__:
        assert getattr(workflows, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = workflows.Nope  # type: ignore[attr-defined]


def test_a_yaml_config_without_kind_names_the_kinds() -> None:
    with pytest.raises(ValueError) as info:
        Source(name="raw", config={"path": "x", "format": "csv"})  # type: ignore[arg-type]
    assert "a Source config needs a 'kind': one of extract-files, extract-http, extract-sql" in str(
        info.value
    )
    with pytest.raises(ValueError) as info:
        Target(name="out", input="raw", config={"kind": "extract-files", "path": "x"})  # type: ignore[arg-type]
    assert (
        "a Target config kind 'extract-files' is not a target kind; use one of load-parquet, "
        "load-sql" in str(info.value)
    )


def test_parameters_reach_steps_through_the_environment_not_the_config() -> None:
    pipeline = Pipeline(
        name="g",
        params={"day": "2026-11-01"},
        steps=[
            Source(name="raw", config=FakeExtract(path=f"in/{workflows.param('day')}")),
            Transform(
                name="t", inputs=["raw"], sql=f"select {workflows.param('day')} as d from raw"
            ),
            Target(name="out", input="t", config=FakeLoad(path="o")),
        ],
    )
    validate_pipeline(pipeline)
    templates = {t["name"]: t for t in render_pipeline(pipeline).workflow["spec"]["templates"]}
    for name in ("raw", "t"):
        container = templates[name]["container"]
        args = container["args"]
        config = args[args.index("--config") + 1]
        assert "{{workflow.parameters.day}}" not in config
        assert "${param:day}" in config
        assert {"name": "FERRY_PARAM_day", "value": "{{workflow.parameters.day}}"} in container[
            "env"
        ]
    # A target gets the data interval (appends are keyed by it), and nothing else unasked.
    assert [
        e["name"] for e in templates["out"]["container"]["env"] if e["name"].startswith("FERRY_")
    ] == ["FERRY_PARAM_interval_end", "FERRY_PARAM_interval_start"]


def test_a_quoted_parameter_in_sql_is_refused() -> None:
    pipeline = Pipeline(
        name="g",
        steps=[
            source(),
            Transform(
                name="t",
                inputs=["raw"],
                sql=f"select cast('{workflows.param('run_date')}' as date) as d from raw",
            ),
            Target(name="out", input="t", config=FakeLoad(path="o")),
        ],
    )
    assert error_of(pipeline) == (
        "pipeline 'g', step 't', field 'sql': parameter 'run_date' is quoted in SQL; the step "
        "passes it as a quoted string literal already, so write "
        "{{workflow.parameters.run_date}} without quotes, e.g. "
        "cast({{workflow.parameters.run_date}} as date)"
    )
