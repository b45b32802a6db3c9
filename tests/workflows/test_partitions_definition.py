"""Partitioned steps: every bad definition refused naming step and field; the rendered fan-out."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows import (
    Checks,
    Cursor,
    DateRange,
    FileGlob,
    FilesExtract,
    FromStep,
    NotNull,
    ParquetDatasetLoad,
    PartitionList,
    Pipeline,
    SameAs,
    Source,
    SqlExtract,
    Target,
    Transform,
    param,
    partition,
)
from workflows.discovery import load_pipelines
from workflows.errors import DefinitionError
from workflows.render import write_rendered
from workflows.render.manifests import build_workflow
from workflows.validation import validate_pipeline

TOOL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "argo-conformance"


def _files(name: str = "orders", **node: Any) -> Source:
    node.setdefault("partitions", FileGlob(path="in/*.csv"))
    return Source(name=name, config=FilesExtract(path=partition("path"), format="csv"), **node)


def _out(input: str) -> Target:
    return Target(name="out", input=input, config=ParquetDatasetLoad(path="out"))


def _error(*steps: Any) -> str:
    with pytest.raises(DefinitionError) as err:
        validate_pipeline(Pipeline(name="p", steps=list(steps)))
    return str(err.value)


def test_a_partition_reference_needs_a_partitioned_step() -> None:
    assert _error(_files(partitions=None), _out("orders")) == (
        "pipeline 'p', step 'orders', field 'config': uses partition('path') but the step is "
        "not partitioned; set partitions= or remove the reference"
    )


def test_a_partition_reference_names_a_field_of_its_kind() -> None:
    source = _files(partitions=DateRange(start="2026-11-01", end="2026-11-08"))
    assert _error(source, _out("orders")) == (
        "pipeline 'p', step 'orders', field 'config': partition('path') is not a field of "
        "'dates' partitions; use one of key, start, end"
    )


def test_same_as_must_name_an_input() -> None:
    checks = Checks(
        name="checked", input="orders", rules=[NotNull(column="id")], partitions=SameAs(step="x")
    )
    assert _error(_files(), checks, _out("checked")) == (
        "pipeline 'p', step 'checked', field 'partitions.step': same-as 'x' must be one of the "
        "step's inputs (orders)"
    )


def test_same_as_must_follow_a_partitioned_step() -> None:
    plain = Source(name="orders", config=FilesExtract(path="in/*.csv", format="csv"))
    checks = Checks(
        name="checked",
        input="orders",
        rules=[NotNull(column="id")],
        partitions=SameAs(step="orders"),
    )
    assert _error(plain, checks, _out("checked")) == (
        "pipeline 'p', step 'checked', field 'partitions.step': same-as 'orders', which is not "
        "partitioned; partition 'orders' or partition this step on its own"
    )


def test_from_step_must_name_a_step_upstream() -> None:
    def sql(spec: FromStep) -> Transform:
        return Transform(name="per", inputs=["orders"], sql="select 1", partitions=spec)

    plain = Source(name="orders", config=FilesExtract(path="in/*.csv", format="csv"))
    assert _error(plain, sql(FromStep(step="nope", column="c")), _out("per")) == (
        "pipeline 'p', step 'per', field 'partitions.step': from-step 'nope' is not a step"
    )
    assert _error(plain, sql(FromStep(step="out", column="c")), _out("per")) == (
        "pipeline 'p', step 'per', field 'partitions.step': from-step 'out' runs after this "
        "step; name a step upstream of it"
    )


def test_the_listing_steps_name_is_kept_free() -> None:
    other = Source(name="orders-partitions", config=FilesExtract(path="x.csv", format="csv"))
    assert _error(_files(), other, _out("orders")) == (
        "pipeline 'p', step 'orders-partitions', field 'name': step name 'orders-partitions' "
        "is taken by the step listing 'orders''s partitions; rename one of them"
    )


def test_a_cached_step_is_not_partitioned() -> None:
    assert _error(_files(cache=True), _out("orders")) == (
        "pipeline 'p', step 'orders', field 'partitions': a partitioned step cannot be cached "
        "yet; remove cache= or partitions="
    )


def test_an_incremental_source_is_not_partitioned() -> None:
    source = Source(
        name="orders",
        config=SqlExtract(
            url="postgresql://db/x", table="orders", cursor=Cursor(field="updated_at")
        ),
        partitions=PartitionList(values=["a"]),
    )
    merge = Target(
        name="out",
        input="orders",
        config=ParquetDatasetLoad(path="out", mode="merge", key=["id"]),
    )
    assert _error(source, merge) == (
        "pipeline 'p', step 'orders', field 'partitions': an incremental source cannot be "
        "partitioned (its mark is one value per step); remove the cursor or partitions="
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a/b"], "value 'a/b' cannot name a partition; use letters, digits, '.', '_' and '-'"),
        (["a", "a"], "values lists a value more than once"),
        ([], "List should have at least 1 item after validation, not 0"),
    ],
)
def test_an_explicit_list_holds_unique_keys(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match="values") as err:
        PartitionList(values=values)
    assert message in str(err.value)


def test_parallelism_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        FileGlob(path="x", parallelism=0)


def _tasks(pipeline: Pipeline) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    document = build_workflow(pipeline)
    templates = {t["name"]: t for t in document["spec"]["templates"]}
    return templates["main"], templates


def test_an_explicit_list_renders_with_items_and_no_listing_step() -> None:
    pipeline = Pipeline(
        name="p",
        steps=[
            Source(
                name="region",
                config=FilesExtract(path=f"in/{partition('value')}/*.csv", format="csv"),
                partitions=PartitionList(values=["eu", "us"], parallelism=1),
            ),
            _out("region"),
        ],
    )
    validate_pipeline(pipeline)
    main, templates = _tasks(pipeline)
    assert [t["name"] for t in main["dag"]["tasks"]] == ["region", "out"]
    assert main["dag"]["tasks"][0] == {"name": "region", "template": "region-each"}
    each = templates["region-each"]
    assert each["parallelism"] == 1
    assert each["dag"]["tasks"][0]["withItems"] == [
        {"key": "eu", "value": "eu"},
        {"key": "us", "value": "us"},
    ]
    assert "inputs" not in each
    container = templates["region"]
    args = container["container"]["args"]
    config = json.loads(args[args.index("--config") + 1])
    assert config["path"] == "in/${param:partition_value}/*.csv"
    assert "{{item" not in json.dumps(container)
    env = {e["name"]: e.get("value") for e in container["container"]["env"]}
    assert env["FERRY_PARAM_partition_value"] == "{{inputs.parameters.partition_value}}"
    assert args[args.index("--output") + 1].endswith(
        "/region/partitions/{{inputs.parameters.partition_key}}"
    )
    out_args = templates["out"]["container"]["args"]
    assert out_args[out_args.index("--input") + 1] == (
        "region={{workflow.parameters.store}}/artifacts/{{workflow.name}}/region"
    )


def test_a_run_time_list_renders_a_listing_step_and_with_param() -> None:
    pipeline = Pipeline(
        name="p",
        params={"day": "2026-11-01"},
        steps=[
            _files(partitions=FileGlob(path=f"{param('day')}/*.csv", parallelism=3)),
            Checks(
                name="checked",
                input="orders",
                rules=[NotNull(column="id")],
                partitions=SameAs(step="orders"),
            ),
            _out("checked"),
        ],
    )
    validate_pipeline(pipeline)
    main, templates = _tasks(pipeline)
    tasks = {t["name"]: t for t in main["dag"]["tasks"]}
    assert list(tasks) == ["orders-partitions", "orders", "checked", "out"]
    listing = "{{tasks.orders-partitions.outputs.parameters.partitions}}"
    assert tasks["orders"]["arguments"]["parameters"] == [{"name": "partitions", "value": listing}]
    assert tasks["checked"]["dependencies"] == ["orders", "orders-partitions"]
    assert templates["orders-each"]["parallelism"] == 3
    assert templates["checked-each"]["parallelism"] == 4  # a same-as step has its own
    assert templates["orders-each"]["dag"]["tasks"][0]["withParam"] == (
        "{{inputs.parameters.partitions}}"
    )
    lister = templates["orders-partitions"]
    outputs = [o["name"] for o in lister["outputs"]["parameters"]]
    assert outputs[-1] == "partitions"
    args = lister["container"]["args"]
    assert json.loads(args[args.index("--config") + 1])["spec"]["path"] == "${param:day}/*.csv"
    checked = templates["checked"]["container"]["args"]
    assert checked[checked.index("--input") + 1] == (
        "orders={{workflow.parameters.store}}/artifacts/{{workflow.name}}/orders/partitions/"
        "{{inputs.parameters.partition_key}}"
    )


YAML = """\
name: per-file
steps:
  - kind: source
    name: orders
    partitions: {kind: files, path: in/*.csv, parallelism: 2}
    config: {kind: extract-files, path: "{{item.path}}", format: csv}
  - kind: target
    name: out
    input: orders
    config: {kind: load-parquet, path: out}
"""


def test_a_yaml_definition_partitions_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "per_file.yaml"
    path.write_text(YAML)
    (pipeline,) = load_pipelines([str(path)]).values()
    validate_pipeline(pipeline)
    assert pipeline.steps[0].partitions == FileGlob(path="in/*.csv", parallelism=2)
    path.write_text(YAML.replace("path: in/*.csv", "pth: in/*.csv"))
    with pytest.raises(DefinitionError) as err:
        load_pipelines([str(path)])
    assert str(err.value) == (
        "pipeline 'per-file', step 'orders': invalid Pipeline at steps[0].partitions: "
        f"FileGlob has no field 'pth'; did you mean 'path'? ({path}:5)"
    )


@pytest.mark.skipif(not TOOL.is_file(), reason=f"{TOOL} is absent (../shared is not checked out)")
def test_every_kind_of_fan_out_conforms_to_argo(tmp_path: Path) -> None:
    pipeline = Pipeline(
        name="fan-outs",
        steps=[
            _files(),
            Checks(
                name="checked",
                input="orders",
                rules=[NotNull(column="id")],
                partitions=SameAs(step="orders"),
            ),
            Transform(
                name="daily",
                inputs=["checked"],
                sql=f"select * from checked where d >= {partition('start')}",
                partitions=DateRange(start=param("interval_start"), end="2026-12-01"),
            ),
            Transform(
                name="per-segment",
                inputs=["daily"],
                sql=f"select * from daily where segment = {partition('value')}",
                partitions=FromStep(step="daily", column="segment"),
            ),
            Transform(
                name="per-region",
                inputs=["per-segment"],
                sql=f'select * from "per-segment" where r = {partition("value")}',
                partitions=PartitionList(values=["eu", "us"]),
            ),
            _out("per-region"),
        ],
    )
    validate_pipeline(pipeline)
    write_rendered(pipeline, tmp_path)
    result = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failing" in result.stdout + result.stderr
    template = yaml.safe_load((tmp_path / "fan-outs" / "workflowtemplate.yaml").read_text())
    names = [t["name"] for t in template["spec"]["templates"]]
    for each in (
        "orders-each",
        "checked-each",
        "daily-each",
        "per-segment-each",
        "per-region-each",
    ):
        assert each in names
