"""YAML pipeline definitions: the Python API's fields, the same checks, file and line named."""

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from workflows.definition_schema import pipeline_schema, schema_text
from workflows.discovery import EXAMPLES, find_pipelines, load_pipelines
from workflows.errors import EXIT_USAGE, DefinitionError
from workflows.render import render_pipeline
from workflows.validation import validate_pipeline

REPO = Path(__file__).resolve().parents[2]
COMMITTED_SCHEMA = REPO / "docs" / "pipeline.schema.json"
EXAMPLE = REPO / "workflows" / "pipelines" / "orders_by_segment.yaml"

GOOD = """\
name: copy
steps:
  - kind: source
    name: raw
    config:
      kind: extract-files
      path: in/*.csv
      format: csv
      columns: {id: int64, x: string}
  - kind: checks
    name: valid
    input: raw
    rules:
      - {rule: not_null, column: id}
  - kind: target
    name: out
    input: valid
    config: {kind: load-parquet, path: out, mode: overwrite}
"""


def write(folder: Path, text: str, name: str = "copy.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        for pipeline in load_pipelines([str(path)]).values():
            validate_pipeline(pipeline)
    assert info.value.exit_code == EXIT_USAGE
    return info.value


def test_a_yaml_pipeline_is_the_same_as_its_python_twin(tmp_path: Path) -> None:
    from workflows import (
        Checks,
        FilesExtract,
        NotNull,
        ParquetDatasetLoad,
        Pipeline,
        Source,
        Target,
    )

    python = Pipeline(
        name="copy",
        steps=[
            Source(
                name="raw",
                config=FilesExtract(
                    path="in/*.csv", format="csv", columns={"id": "int64", "x": "string"}
                ),
            ),
            Checks(name="valid", input="raw", rules=[NotNull(column="id")]),
            Target(
                name="out", input="valid", config=ParquetDatasetLoad(path="out", mode="overwrite")
            ),
        ],
    )
    from_yaml = load_pipelines([str(write(tmp_path, GOOD))])["copy"]
    assert from_yaml == python
    assert render_pipeline(from_yaml).files() == render_pipeline(python).files()


def test_a_folder_finds_yaml_and_python_side_by_side(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "more.py").write_text(
        "from workflows import FilesExtract, ParquetDatasetLoad, Pipeline, Source, Target\n"
        "p = Pipeline(name='more', steps=[\n"
        "    Source(name='a', config=FilesExtract(path='x', format='csv')),\n"
        "    Target(name='b', input='a', config=ParquetDatasetLoad(path='o'))])\n"
    )
    found = find_pipelines([str(tmp_path)])
    assert sorted(found) == ["copy", "more"]
    assert found["copy"].file == (tmp_path / "copy.yaml").resolve()


def test_a_misspelt_field_names_file_line_and_the_field_meant(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    input: raw\n", "    inputs: raw\n"))
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'valid': Checks 'valid' has no field 'inputs'; "
        f"did you mean 'input'? ({path}:12)"
    )


def test_a_missing_field_is_pydantics_message_at_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      format: csv\n", ""))
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'raw': invalid Pipeline at steps[0].config: Field required "
        f"({path}:5)"
    )


def test_a_wrong_value_names_the_field_and_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("format: csv", "format: xml"))
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'raw': invalid Pipeline at steps[0].config.format: Input should "
        f"be 'csv', 'jsonl' or 'parquet' ({path}:8)"
    )


def test_an_unknown_config_kind_suggests_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: extract-files", "kind: extract-file"))
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'raw': a Source config kind 'extract-file' is not a source kind; "
        "did you mean 'extract-files'? use one of extract-files, extract-http, extract-sql "
        f"({path}:6)"
    )


def test_an_unknown_node_kind(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - kind: checks", "  - kind: check"))
    message = str(error_of(path))
    assert message.startswith(
        "pipeline 'copy', step 'valid': invalid Pipeline at steps[1]: Input tag 'check' found "
        "using 'kind' does not match any of the expected tags: 'source', 'checks', 'transform', "
        "'python', 'target'"
    )
    assert message.endswith(f"({path}:10)")


def test_a_validation_error_after_loading_names_the_line_of_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("input: valid", "input: vaild"))
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'out', field 'input': unknown input 'vaild'; did you mean "
        f"'valid'? known steps: raw, valid ({path}:17)"
    )


def test_a_rule_column_error_names_the_rule_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("{rule: not_null, column: id}", "{rule: not_null, column: y}")
    )
    assert str(error_of(path)) == (
        "pipeline 'copy', step 'valid', field 'rules[0]': column 'y' is not among the columns "
        f"of 'raw'; its columns: id, x ({path}:14)"
    )


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    input: raw\n", "    input: raw\n    input: raw\n"))
    assert str(error_of(path)) == (
        "pipeline 'copy': not valid YAML: key 'input' is given twice (first on line 12); "
        f"keep one ({path}:13)"
    )


def test_text_that_is_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed\n", name="broken.yaml")
    assert str(error_of(path)).startswith("pipeline 'broken': not valid YAML: ")
    assert str(error_of(path)).endswith(f"({path}:2)")


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- just\n- a list\n", name="list.yaml")
    assert str(error_of(path)) == (
        f"pipeline 'list': a pipeline definition is a YAML mapping with name and steps ({path}:1)"
    )


def test_the_committed_schema_is_current() -> None:
    assert COMMITTED_SCHEMA.read_text() == schema_text(), (
        "docs/pipeline.schema.json is out of date; run "
        "`ferry schema --out docs/pipeline.schema.json`"
    )


def test_the_shipped_yaml_example_validates_against_the_schema() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    jsonschema.Draft202012Validator(pipeline_schema()).validate(document)
    assert "orders-by-segment" in load_pipelines([EXAMPLES])


def test_the_schema_refuses_what_ferry_refuses() -> None:
    validator = jsonschema.Draft202012Validator(pipeline_schema())
    document = yaml.safe_load(GOOD)
    validator.validate(document)
    document["steps"][1]["inputs"] = document["steps"][1].pop("input")
    assert not validator.is_valid(document)
    document = yaml.safe_load(GOOD)
    document["steps"][0]["config"]["kind"] = "load-parquet"
    assert not validator.is_valid(document)


def test_ferry_schema_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from click.testing import CliRunner

    from workflows.cli.schema_cmd import schema

    result = CliRunner().invoke(schema, [])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Ferry pipeline"
