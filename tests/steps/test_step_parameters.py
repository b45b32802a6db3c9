"""Workflow parameters reach a step through the environment and cannot change its config."""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.errors import StepUsageError
from steps.runtime.parameters import PLACEHOLDER, placeholder, resolve_parameters
from steps.runtime.store import open_location
from tests.conftest import run_step


def test_the_placeholder_round_trips() -> None:
    assert placeholder("run_date") == "${param:run_date}"
    match = PLACEHOLDER.fullmatch(placeholder("run_date"))
    assert match is not None and match.group(1) == "run_date"


@pytest.mark.parametrize("value", ['a"b', "a\\b", "a\nb", "x', 'y", '"}, "extra": 1, "z": {"'])
def test_a_value_never_changes_the_shape_of_the_config(value: str) -> None:
    document = {"path": f"in/{placeholder('v')}/*.csv", "sql": f"select {placeholder('v')}"}
    resolved = resolve_parameters(document, {"FERRY_PARAM_v": value}, sql_fields=("sql",))
    assert set(resolved) == {"path", "sql"}
    assert resolved["path"] == f"in/{value}/*.csv"
    assert resolved["sql"] == "select '" + value.replace("'", "''") + "'"


def test_sql_fields_match_list_items_and_plain_text_stays_plain() -> None:
    document = {
        "rules": [{"predicate": f"n > {placeholder('n')}", "name": placeholder("n")}],
        "threshold": 0.9,
    }
    resolved = resolve_parameters(
        document, {"FERRY_PARAM_n": "5"}, sql_fields=("rules.*.predicate",)
    )
    assert resolved == {"rules": [{"predicate": "n > '5'", "name": "5"}], "threshold": 0.9}


def test_a_missing_variable_is_a_usage_error_naming_field_and_variable() -> None:
    with pytest.raises(StepUsageError) as info:
        resolve_parameters({"csv": {"path": placeholder("dir")}}, {})
    assert str(info.value) == (
        "config field 'csv.path' uses parameter 'dir' but FERRY_PARAM_dir is not set; run the "
        "step from its rendered template, or set the variable"
    )


def test_a_transform_gets_a_hostile_value_as_one_sql_literal(tmp_path: Path) -> None:
    source = ArtifactWriter(
        open_location(str(tmp_path / "in")), pipeline="p", step="in", run_id="r"
    )
    source.write(pa.record_batch({"n": [1, 2]}))
    source.commit(schema=pa.schema([("n", pa.int64())]))
    hostile = "x'; drop table t; select '"
    out = tmp_path / "out"
    config = {"sql": f"select n, {placeholder('label')} as label from t"}
    result = run_step(
        "transform",
        *("--pipeline", "p", "--step", "s", "--run-id", "r", "--store", str(tmp_path)),
        *("--input", f"t={tmp_path / 'in'}", "--output", str(out)),
        *("--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "o"), "FERRY_PARAM_label": hostile},
    )
    assert result.returncode == 0, result.stderr
    rows = ArtifactReader(open_location(str(out)), "s").dataset().to_table().to_pylist()
    assert rows == [{"n": 1, "label": hostile}, {"n": 2, "label": hostile}]
