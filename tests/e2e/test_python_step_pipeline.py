"""A pipeline with a Python step, from a user's own folder: found, checked, run with ferry run."""

import json
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.e2e.ferry_cli import ferry

PIPELINE = """\
from workflows import (
    FilesExtract, ParquetDatasetLoad, Pipeline, PythonStep, Source, Target, Transform, param,
)

pipeline = Pipeline(
    name="people-scored",
    params={"data_dir": "data", "output_dir": "out"},
    steps=[
        Source(name="people", config=FilesExtract(path=f"{param('data_dir')}/people.parquet",
                                                  format="parquet")),
        Transform(name="adults", inputs=["people"], sql="select * from people where age >= 18"),
        PythonStep(name="scored", inputs=["adults"], function="my_steps.score:score",
                   params={"bonus": 2}, columns={"name": "string", "score": "int64"}),
        Transform(name="ranked", inputs=["scored"],
                  sql="select name, score from scored order by score desc, name"),
        Target(name="out", input="ranked",
               config=ParquetDatasetLoad(path=f"{param('output_dir')}/ranked", mode="overwrite")),
    ],
)
"""

FUNCTION = """\
import pyarrow as pa
import pyarrow.compute as pc

from workflows import Rejected


def score(adults, *, params):
    for batch in adults:
        named = pc.not_equal(batch["name"], "")
        yield Rejected(batch.filter(pc.invert(named)), reason="no name")
        kept = batch.filter(named)
        yield pa.record_batch(
            {"name": kept["name"], "score": pc.add(kept["age"], params["bonus"])}
        )
"""


def project(tmp_path: Path, function: str = FUNCTION) -> Path:
    folder = tmp_path / "my_pipelines"
    (folder / "my_steps").mkdir(parents=True)
    (folder / "my_steps" / "__init__.py").write_text("")
    (folder / "my_steps" / "score.py").write_text(textwrap.dedent(function))
    (folder / "people.py").write_text(PIPELINE)
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(
        pa.table({"name": ["Ada", "", "Bo", "Cy"], "age": [36, 40, 17, 20]}),
        data / "people.parquet",
    )
    return folder


def test_a_python_step_from_the_pipelines_folder_runs_locally(tmp_path: Path) -> None:
    folder = project(tmp_path)
    result = ferry(
        "run", "people-scored", "--pipelines", str(folder), "--store", "store",
        "--output", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    scored = next(t for t in record["tasks"] if t["name"] == "scored")
    assert (scored["rows_in"], scored["rows_out"], scored["rows_rejected"]) == (3, 2, 1)
    assert scored["input_rows"] == {"adults": 3}
    adults = next(t for t in record["tasks"] if t["name"] == "adults")
    assert (adults["rows_in"], adults["rows_out"], adults["input_rows"]) == (4, 3, {"people": 4})
    table = pq.read_table(tmp_path / "out" / "ranked")
    assert table.to_pylist() == [{"name": "Ada", "score": 38}, {"name": "Cy", "score": 22}]


def test_a_function_with_the_wrong_signature_is_refused_at_list_time(tmp_path: Path) -> None:
    folder = project(tmp_path, FUNCTION.replace("def score(adults, *, params):", "def score():"))
    result = ferry("list", "--pipelines", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    invalid = [line for line in result.stdout.splitlines() if "invalid:" in line]
    assert len(invalid) == 1
    assert invalid[0].startswith(
        "  invalid: pipeline 'people-scored', step 'scored', field 'function': function "
        "'my_steps.score:score'"
    )


def test_a_function_that_does_not_import_is_refused_before_any_step(tmp_path: Path) -> None:
    folder = project(tmp_path, "import no_such_library\n")
    result = ferry("run", "people-scored", "--pipelines", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "ferry: pipeline 'people-scored', step 'scored', field 'function': "
    )
    assert "no_such_library" in result.stderr
    assert not (tmp_path / ".ferry").exists()
