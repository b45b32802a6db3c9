"""The ``partitions`` step lists partitions; a fanned-out step's artifact is read as their union."""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.errors import DataRejected, StepError
from steps.runtime.store import open_location
from tests.conftest import run_step

COMMON = ("--pipeline", "demo", "--step", "orders-partitions", "--run-id", "r1")


def _list(tmp_path: Path, spec: dict[str, object], *inputs: str) -> tuple[int, str, object]:
    outputs = tmp_path / "outputs"
    done = run_step(
        "partitions", *COMMON, "--store", str(tmp_path / "store"), "--config",
        json.dumps({"spec": spec}), *inputs,
        env={"FERRY_OUTPUTS_DIR": str(outputs), "FERRY_PARAM_first": "2026-11-01T00:00:00Z"},
    )  # fmt: skip
    listed = outputs / "partitions"
    items = json.loads(listed.read_text()) if listed.exists() else None
    return done.returncode, done.stderr.strip().splitlines()[-1] if done.stderr else "", items


def test_a_date_range_is_cut_into_windows_the_last_one_shorter(tmp_path: Path) -> None:
    spec = {"kind": "dates", "start": "${param:first}", "end": "2026-11-17", "days": 7}
    code, _, items = _list(tmp_path, spec)
    assert code == 0
    assert items == [
        {"key": "2026-11-01", "start": "2026-11-01", "end": "2026-11-08"},
        {"key": "2026-11-08", "start": "2026-11-08", "end": "2026-11-15"},
        {"key": "2026-11-15", "start": "2026-11-15", "end": "2026-11-17"},
    ]


def test_an_empty_date_range_is_bad_usage(tmp_path: Path) -> None:
    code, error, items = _list(
        tmp_path, {"kind": "dates", "start": "2026-11-02", "end": "2026-11-01"}
    )
    assert (code, items) == (2, None)
    assert error == (
        "ferry: pipeline 'demo', step 'orders-partitions': partitions end 2026-11-01 is not after "
        "start 2026-11-02; the range is [start, end)"
    )


def test_a_date_that_is_no_date_is_bad_usage(tmp_path: Path) -> None:
    code, error, _ = _list(tmp_path, {"kind": "dates", "start": "soon", "end": "2026-11-01"})
    assert code == 2
    assert error.endswith("partitions start 'soon' is not a date; give YYYY-MM-DD (or a timestamp)")


def test_files_are_one_partition_each_with_unique_keys(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        (tmp_path / "in" / folder / "x y.csv").write_text("id\n1\n")
    code, _, items = _list(tmp_path, {"kind": "files", "path": f"{tmp_path}/in/*/*.csv"})
    assert code == 0
    assert items == [
        {"key": "x-y.csv", "path": f"{tmp_path}/in/a/x y.csv"},
        {"key": "x-y.csv-2", "path": f"{tmp_path}/in/b/x y.csv"},
    ]


def test_a_glob_that_matches_nothing_fails_the_step(tmp_path: Path) -> None:
    code, error, _ = _list(tmp_path, {"kind": "files", "path": f"{tmp_path}/none/*.csv"})
    assert code == 1
    assert error.endswith(
        f"no files match {tmp_path}/none/*.csv; check the path and the glob pattern"
    )


def _artifact(uri: str, rows: list[int], schema: pa.Schema | None = None) -> None:
    schema = schema or pa.schema([("segment", pa.int64())])
    writer = ArtifactWriter(open_location(uri), pipeline="demo", step="s", run_id="r1")
    writer.write(pa.record_batch([pa.array(rows, schema.field(0).type)], schema=schema))
    writer.commit()


def test_the_values_of_an_upstream_column_are_the_partitions(tmp_path: Path) -> None:
    _artifact(str(tmp_path / "segments"), [3, 1, 3, 2])
    spec = {"kind": "from-step", "step": "segments", "column": "segment"}
    code, _, items = _list(tmp_path, spec, "--input", f"segments={tmp_path / 'segments'}")
    assert code == 0
    assert items == [{"key": v, "value": v} for v in ("1", "2", "3")]


def test_an_upstream_column_that_is_not_there_is_bad_usage(tmp_path: Path) -> None:
    _artifact(str(tmp_path / "segments"), [1])
    spec = {"kind": "from-step", "step": "segments", "column": "region"}
    code, error, _ = _list(tmp_path, spec, "--input", f"segments={tmp_path / 'segments'}")
    assert code == 2
    assert error.endswith("partitions column 'region' is not in step 'segments' (columns: segment)")


def test_an_upstream_without_values_gives_no_partitions(tmp_path: Path) -> None:
    _artifact(str(tmp_path / "segments"), [])
    spec = {"kind": "from-step", "step": "segments", "column": "segment"}
    code, error, _ = _list(tmp_path, spec, "--input", f"segments={tmp_path / 'segments'}")
    assert code == 3
    assert error.endswith("column 'segment' of step 'segments' gives no partitions; nothing to run")


def test_a_partitioned_artifact_reads_as_the_union_of_its_partitions(tmp_path: Path) -> None:
    for key, rows in (("b", [3]), ("a", [1, 2])):
        _artifact(str(tmp_path / "orders" / "partitions" / key), rows)
    reader = ArtifactReader(open_location(str(tmp_path / "orders")), "orders")
    assert reader.rows == 3
    assert reader.manifest["partitions"] == {
        "a": {"data": 2, "quarantine": 0},
        "b": {"data": 1, "quarantine": 0},
    }
    assert reader.dataset().to_table().column("segment").to_pylist() == [1, 2, 3]


def test_an_unfinished_partition_makes_the_union_incomplete(tmp_path: Path) -> None:
    _artifact(str(tmp_path / "orders" / "partitions" / "a"), [1])
    (tmp_path / "orders" / "partitions" / "b" / "data").mkdir(parents=True)
    with pytest.raises(StepError) as err:
        ArtifactReader(open_location(str(tmp_path / "orders")), "orders")
    assert str(err.value) == (
        f"input 'orders' at {tmp_path / 'orders'} is incomplete: partition 'b' has no "
        "_manifest.json (it did not finish); rerun that partition"
    )


def test_partitions_with_different_columns_are_rejected(tmp_path: Path) -> None:
    _artifact(str(tmp_path / "orders" / "partitions" / "a"), [1])
    other = pa.schema([("segment", pa.string())])
    writer = ArtifactWriter(
        open_location(str(tmp_path / "orders" / "partitions" / "b")),
        pipeline="demo",
        step="s",
        run_id="r1",
    )
    writer.write(pa.record_batch([pa.array(["x"])], schema=other))
    writer.commit()
    with pytest.raises(DataRejected) as err:
        ArtifactReader(open_location(str(tmp_path / "orders")), "orders")
    assert str(err.value).startswith(
        f"input 'orders' at {tmp_path / 'orders'}: partitions 'a' and 'b' have different columns"
    )


def test_a_partition_runs_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id\n1\n")
    config = json.dumps({"path": str(tmp_path / "in.csv"), "format": "csv"})
    done = run_step(
        "extract-files", "--pipeline", "demo", "--step", "orders", "--run-id", "r1",
        "--store", str(tmp_path / "store"), "--output", str(tmp_path / "out"),
        "--partition", "in.csv", "--config", config,
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ArtifactReader(open_location(str(tmp_path / "out")), "out").manifest["step"] == (
        "orders@in.csv"
    )
    bad = run_step(
        "extract-files", "--pipeline", "demo", "--step", "orders", "--run-id", "r1",
        "--store", str(tmp_path / "store"), "--partition", "a/b", "--config", "{}",
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "ferry: pipeline 'demo', step 'orders@a/b': --partition 'a/b' is not a partition key; "
        "use letters, digits, '.', '_' and '-'"
    )


def _sqlite(tmp_path: Path, rows: list[int]) -> str:
    import sqlite3

    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table orders (id integer, note text)")
        conn.executemany("insert into orders values (?, 'n')", [(r,) for r in rows])
    return f"sqlite://{path}"


def test_key_ranges_split_an_integer_column_into_equal_ranges(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, list(range(1, 11)))
    spec = {
        "kind": "key-ranges",
        "source": {"url": url, "table": "orders"},
        "column": "id",
        "count": 3,
    }
    code, error, items = _list(tmp_path, spec)
    assert code == 0, error
    assert items == [
        {"key": "1", "lower": "1", "upper": "5"},
        {"key": "5", "lower": "5", "upper": "9"},
        {"key": "9", "lower": "9", "upper": "11"},
    ]


def test_key_ranges_of_an_empty_table_give_no_partitions(tmp_path: Path) -> None:
    spec = {
        "kind": "key-ranges",
        "source": {"url": _sqlite(tmp_path, []), "table": "orders"},
        "column": "id",
        "count": 3,
    }
    code, error, _ = _list(tmp_path, spec)
    assert code == 3
    assert error.endswith("column 'id' of orders gives no partitions; nothing to run")


def test_key_ranges_refuse_a_text_column(tmp_path: Path) -> None:
    spec = {
        "kind": "key-ranges",
        "source": {"url": _sqlite(tmp_path, [1]), "table": "orders"},
        "column": "note",
        "count": 2,
    }
    code, error, _ = _list(tmp_path, spec)
    assert code == 2
    assert error.endswith(
        "key-ranges column 'note' holds str values; split on an integer or date column"
    )


def test_key_ranges_split_a_date_column_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as c:
        c.execute("create table days (d date)")
        c.execute(
            "insert into days select generate_series('2026-11-01'::date, '2026-11-10', '1 day')"
        )
    spec = {
        "kind": "key-ranges",
        "source": {"url": pg_url, "query": "select d from days where d is not null"},
        "column": "d",
        "count": 2,
    }
    code, error, items = _list(tmp_path, spec)
    assert code == 0, error
    assert items == [
        {"key": "2026-11-01", "lower": "2026-11-01", "upper": "2026-11-06"},
        {"key": "2026-11-06", "lower": "2026-11-06", "upper": "2026-11-11"},
    ]
