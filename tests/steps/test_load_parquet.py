"""``load-parquet`` end to end: modes, idempotent retries, nothing published on failure."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactWriter
from steps.runtime.store import open_location, s3_filesystem
from tests.conftest import run_step

WHERE = "ferry: pipeline 'demo', step 'publish': "


DAY_SCHEMA = pa.schema([("day", pa.string()), ("n", pa.int64())])


def artifact(uri: str, rows: list[dict[str, Any]], schema: pa.Schema = DAY_SCHEMA) -> str:
    writer = ArtifactWriter(open_location(uri), pipeline="demo", step="daily", run_id="r")
    table = pa.Table.from_pylist(rows, schema=schema)
    for batch in table.to_batches(max_chunksize=2):
        writer.write(batch)
    writer.commit(schema=table.schema)
    return uri


def load(
    tmp_path: Path, source: str, run_id: str, config: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    return run_step(
        "load-parquet",
        *("--pipeline", "demo", "--step", "publish", "--run-id", run_id),
        *("--store", str(tmp_path / "store"), "--input", f"daily={source}"),
        *("--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs" / run_id)},
    )


def loaded(tmp_path: Path, source: str, run_id: str, config: dict[str, Any]) -> None:
    result = load(tmp_path, source, run_id, config)
    assert result.returncode == 0, result.stderr


def dataset_rows(path: str, fs: pafs.FileSystem | None = None) -> list[tuple[str, int]]:
    table = ds.dataset(path, format="parquet", partitioning="hive", filesystem=fs).to_table()
    return sorted(zip(table.column("day").to_pylist(), table.column("n").to_pylist(), strict=True))


def visible_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)
    )


DAY1 = [{"day": "d1", "n": 1}, {"day": "d1", "n": 2}, {"day": "d2", "n": 3}]
DAY2 = [{"day": "d2", "n": 30}, {"day": "d3", "n": 4}]


def test_append_across_runs_and_retry_without_duplicates(tmp_path: Path) -> None:
    first = artifact(str(tmp_path / "a1"), DAY1)
    second = artifact(str(tmp_path / "a2"), DAY2)
    target = str(tmp_path / "out")
    config = {"path": target, "partition_by": ["day"]}

    loaded(tmp_path, first, "run-1", config)
    loaded(tmp_path, second, "run-2", config)
    loaded(tmp_path, second, "run-2", config)

    assert dataset_rows(target) == [("d1", 1), ("d1", 2), ("d2", 3), ("d2", 30), ("d3", 4)]
    assert visible_files(tmp_path / "out") == [
        "day=d1/part-run-1-publish-0.parquet",
        "day=d2/part-run-1-publish-0.parquet",
        "day=d2/part-run-2-publish-0.parquet",
        "day=d3/part-run-2-publish-0.parquet",
    ]
    commit = json.loads(
        (tmp_path / "out" / "_ferry_commits" / "run-2" / "publish.json").read_text()
    )
    assert (commit["mode"], commit["rows"], commit["files"]) == (
        "append",
        2,
        ["day=d2/part-run-2-publish-0.parquet", "day=d3/part-run-2-publish-0.parquet"],
    )
    outputs = tmp_path / "outputs" / "run-2"
    assert {p.name: p.read_text() for p in outputs.iterdir()} == {
        "rows_in": "2",
        "rows_out": "2",
        "rows_rejected": "0",
        "quality_score": "1.000000",
        "input_rows": '{"daily":2}',
        "warning": "",
        "cached": "",
    }


def test_retry_removes_extra_files_of_an_earlier_attempt(tmp_path: Path) -> None:
    source = artifact(str(tmp_path / "a1"), DAY1)
    stale = tmp_path / "out" / "part-run-1-publish-7.parquet"
    stale.parent.mkdir(parents=True)
    pq.write_table(pa.table({"day": ["d9"], "n": [9]}), stale)
    other_step = tmp_path / "out" / "part-run-1-publish-2-0.parquet"
    pq.write_table(pa.table({"day": ["d8"], "n": [8]}), other_step)

    loaded(tmp_path, source, "run-1", {"path": str(tmp_path / "out")})

    assert not stale.exists()
    assert other_step.exists()
    assert dataset_rows(str(tmp_path / "out")) == [("d1", 1), ("d1", 2), ("d2", 3), ("d8", 8)]


def test_overwrite_replaces_everything(tmp_path: Path) -> None:
    target = str(tmp_path / "out")
    loaded(tmp_path, artifact(str(tmp_path / "a1"), DAY1), "run-1", {"path": target})
    loaded(
        tmp_path,
        artifact(str(tmp_path / "a2"), DAY2),
        "run-2",
        {"path": target, "mode": "overwrite"},
    )

    assert dataset_rows(target) == [("d2", 30), ("d3", 4)]
    assert not (tmp_path / ".out.ferry-staging" / "run-2-publish").exists()


def test_overwrite_partitions_keeps_partitions_not_in_the_new_data(tmp_path: Path) -> None:
    target = str(tmp_path / "out")
    config = {"path": target, "partition_by": ["day"], "mode": "overwrite-partitions"}
    loaded(tmp_path, artifact(str(tmp_path / "a1"), DAY1), "run-1", config)
    loaded(tmp_path, artifact(str(tmp_path / "a2"), DAY2), "run-2", config)

    assert dataset_rows(target) == [("d1", 1), ("d1", 2), ("d2", 30), ("d3", 4)]


def test_s3_modes_and_retry(tmp_path: Path, s3_bucket: str) -> None:
    target = f"{s3_bucket}/datasets/daily"
    partitioned = {"path": target, "partition_by": ["day"]}
    first = artifact(f"{s3_bucket}/artifacts/run-1/daily", DAY1)
    second = artifact(f"{s3_bucket}/artifacts/run-2/daily", DAY2)
    s3_path = target.removeprefix("s3://")

    loaded(tmp_path, first, "run-1", partitioned)
    loaded(tmp_path, first, "run-1", partitioned)
    assert dataset_rows(s3_path, s3_filesystem()) == [("d1", 1), ("d1", 2), ("d2", 3)]

    loaded(tmp_path, second, "run-2", {**partitioned, "mode": "overwrite-partitions"})
    assert dataset_rows(s3_path, s3_filesystem()) == [("d1", 1), ("d1", 2), ("d2", 30), ("d3", 4)]

    loaded(tmp_path, second, "run-3", {**partitioned, "mode": "overwrite"})
    assert dataset_rows(s3_path, s3_filesystem()) == [("d2", 30), ("d3", 4)]
    everything = pafs.FileSelector(s3_path.rsplit("/", 1)[0], recursive=True)
    assert sorted(
        i.path.removeprefix(s3_path + "/")
        for i in s3_filesystem().get_file_info(everything)
        if i.is_file and "_ferry_commits" not in i.path
    ) == ["day=d2/part-run-3-publish-0.parquet", "day=d3/part-run-3-publish-0.parquet"]


def test_missing_partition_column_is_a_usage_error(tmp_path: Path) -> None:
    source = artifact(str(tmp_path / "a1"), DAY1)

    result = load(
        tmp_path,
        source,
        "run-1",
        {"path": str(tmp_path / "out"), "partition_by": ["region", "day"]},
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}partition_by column(s) 'region' not in input 'daily' (columns: day, n); "
        "fix partition_by"
    )


def test_overwrite_partitions_needs_partition_by(tmp_path: Path) -> None:
    source = artifact(str(tmp_path / "a1"), DAY1)

    result = load(tmp_path, source, "run-1", {"path": "out", "mode": "overwrite-partitions"})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}invalid load-parquet config at (config): Value error, mode "
        "'overwrite-partitions' needs partition_by; use 'overwrite' to replace the whole dataset"
    )


@pytest.mark.parametrize("mode", ["append", "overwrite"])
def test_a_load_failing_mid_stream_publishes_nothing(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "out"
    loaded(tmp_path, artifact(str(tmp_path / "a0"), DAY1), "run-0", {"path": str(target)})
    before = visible_files(target)
    source = tmp_path / "a1"
    artifact(str(source), [{"day": f"d{i % 7}", "n": i} for i in range(5000)])
    manifest = json.loads((source / "_manifest.json").read_text())
    (source / "data" / "part-truncated.parquet").write_bytes(b"PAR1 cut short by a killed writer")
    manifest["files"]["data"].append("data/part-truncated.parquet")
    (source / "_manifest.json").write_text(json.dumps(manifest))
    config = {"path": str(target), "mode": mode, "batch_size": 100, "max_rows_per_file": 100}

    result = load(tmp_path, str(source), "run-1", config)

    assert result.returncode == 1
    assert "part-truncated.parquet" in result.stderr.strip().splitlines()[-1]
    assert visible_files(target) == before
    assert dataset_rows(str(target)) == [("d1", 1), ("d1", 2), ("d2", 3)]
    assert not (target / "_ferry_commits" / "run-1").exists()


def test_partition_values_are_escaped_like_pyarrow_and_read_back(tmp_path: Path) -> None:
    values = ["a b/c%d=é?", None, "", "x"]
    schema = pa.schema([("day", pa.string()), ("n", pa.int64())])
    source = artifact(
        str(tmp_path / "a1"), [{"day": v, "n": i} for i, v in enumerate(values)], schema
    )
    target = tmp_path / "out"

    loaded(tmp_path, source, "run-1", {"path": str(target), "partition_by": ["day"]})

    assert visible_files(target) == [
        "day=/part-run-1-publish-0.parquet",
        "day=__HIVE_DEFAULT_PARTITION__/part-run-1-publish-0.parquet",
        "day=a%20b%2Fc%25d%3D%C3%A9%3F/part-run-1-publish-0.parquet",
        "day=x/part-run-1-publish-0.parquet",
    ]
    assert pq.read_schema(target / "day=x" / "part-run-1-publish-0.parquet").names == ["n"]
    read_by_pyarrow = ds.dataset(target, partitioning="hive").to_table().to_pylist()
    assert sorted(read_by_pyarrow, key=lambda r: r["n"]) == [
        {"n": i, "day": v} for i, v in enumerate(values)
    ]
    read_by_duckdb = duckdb.sql(
        f"SELECT n, day FROM read_parquet('{target}/**/*.parquet', hive_partitioning = true) "
        "ORDER BY n"
    ).fetchall()
    assert read_by_duckdb == list(enumerate(values))


def test_more_partitions_than_open_files_roll_and_stay_deterministic(tmp_path: Path) -> None:
    rows = [{"day": f"d{i % 40:02d}", "n": i} for i in range(4000)]
    source = artifact(str(tmp_path / "a1"), rows)
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"], "batch_size": 100}

    loaded(tmp_path, source, "run-1", {**config, "max_rows_per_file": 30})
    first = {f: pq.read_metadata(target / f).num_rows for f in visible_files(target)}
    loaded(tmp_path, source, "run-1", {**config, "max_rows_per_file": 30})

    assert {f: pq.read_metadata(target / f).num_rows for f in visible_files(target)} == first
    assert max(first.values()) == 30
    assert sum(first.values()) == 4000
    for day in range(40):
        names = sorted(f for f in first if f.startswith(f"day=d{day:02d}/"))
        assert names == sorted(f"day=d{day:02d}/part-run-1-publish-{n}.parquet" for n in range(4))
    assert dataset_rows(str(target)) == sorted((r["day"], r["n"]) for r in rows)


@pytest.mark.parametrize("staging", [".out.ferry-staging", "out/_staging"])
def test_a_publish_killed_midway_is_completed_by_the_retry(tmp_path: Path, staging: str) -> None:
    """``out/_staging`` is where earlier versions staged: their leftovers are finished too."""
    target = tmp_path / "out"
    loaded(tmp_path, artifact(str(tmp_path / "a1"), DAY1), "run-1", {"path": str(target)})
    staged = tmp_path / staging / "run-2-publish" / "part-run-2-publish-0.parquet"
    staged.parent.mkdir(parents=True)
    pq.write_table(pa.table({"day": ["d1", "d7"], "n": [1, 7]}), staged)
    (staged.parent / "_publish.json").write_text(
        json.dumps({"remove": ["part-run-1-publish-0.parquet"], "move": [staged.name]})
    )
    (target / "part-run-1-publish-0.parquet").unlink()
    config = {"path": str(target), "mode": "merge", "key": ["day", "n"]}

    loaded(tmp_path, artifact(str(tmp_path / "a2"), [{"day": "d7", "n": 7}]), "run-2", config)

    assert dataset_rows(str(target)) == [("d1", 1), ("d7", 7)]
    assert visible_files(target) == ["part-run-2-publish-0.parquet"]
    assert not staged.parent.exists()


ORDER_SCHEMA = pa.schema([("id", pa.int64()), ("day", pa.string()), ("amount", pa.float64())])
ORDERS_1 = [
    {"id": 1, "day": "d1", "amount": 10.0},
    {"id": 2, "day": "d1", "amount": 20.0},
    {"id": 3, "day": "d2", "amount": 30.0},
]
ORDERS_2 = [
    {"id": 2, "day": "d1", "amount": 21.0},
    {"id": 4, "day": "d1", "amount": 40.0},
    {"id": 5, "day": "d3", "amount": 50.0},
]
MERGED = [(1, "d1", 10.0), (2, "d1", 21.0), (3, "d2", 30.0), (4, "d1", 40.0), (5, "d3", 50.0)]


def orders(path: str, fs: pafs.FileSystem | None = None) -> list[tuple[int, str, float]]:
    table = ds.dataset(path, format="parquet", partitioning="hive", filesystem=fs).to_table()
    return sorted(zip(*(table.column(c).to_pylist() for c in ("id", "day", "amount")), strict=True))


@pytest.mark.parametrize("key", [["id"], ["day", "id"]])
def test_merge_upserts_by_key_and_is_idempotent(tmp_path: Path, key: list[str]) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"], "mode": "merge", "key": key}
    first = artifact(str(tmp_path / "a1"), ORDERS_1, ORDER_SCHEMA)
    second = artifact(str(tmp_path / "a2"), ORDERS_2, ORDER_SCHEMA)

    loaded(tmp_path, first, "run-1", config)
    untouched = (target / "day=d2" / "part-run-1-publish-0.parquet").read_bytes()
    loaded(tmp_path, second, "run-2", config)

    assert orders(str(target)) == MERGED
    assert visible_files(target) == [
        "day=d1/part-run-2-publish-0.parquet",
        "day=d2/part-run-1-publish-0.parquet",
        "day=d3/part-run-2-publish-0.parquet",
    ]
    assert (target / "day=d2" / "part-run-1-publish-0.parquet").read_bytes() == untouched
    commit = json.loads((target / "_ferry_commits" / "run-2" / "publish.json").read_text())
    assert (commit["mode"], commit["key"], commit["rows"], commit["rows_replaced"]) == (
        "merge",
        key,
        3,
        1,
    )
    assert (tmp_path / "outputs" / "run-2" / "rows_out").read_text() == "3"

    loaded(tmp_path, second, "run-2", config)
    loaded(tmp_path, second, "run-3", config)

    assert orders(str(target)) == MERGED


def test_merge_on_s3(tmp_path: Path, s3_bucket: str) -> None:
    target = f"{s3_bucket}/datasets/orders"
    config = {"path": target, "partition_by": ["day"], "mode": "merge", "key": ["id"]}
    first = artifact(f"{s3_bucket}/artifacts/run-1/daily", ORDERS_1, ORDER_SCHEMA)
    second = artifact(f"{s3_bucket}/artifacts/run-2/daily", ORDERS_2, ORDER_SCHEMA)
    s3_path = target.removeprefix("s3://")

    loaded(tmp_path, first, "run-1", config)
    loaded(tmp_path, second, "run-2", config)
    loaded(tmp_path, second, "run-3", config)

    assert orders(s3_path, s3_filesystem()) == MERGED
    everything = pafs.FileSelector(s3_path, recursive=True)
    files = sorted(
        i.path.removeprefix(s3_path + "/")
        for i in s3_filesystem().get_file_info(everything)
        if i.is_file and "_ferry_commits" not in i.path
    )
    assert files == [
        "day=d1/part-run-3-publish-0.parquet",
        "day=d2/part-run-1-publish-0.parquet",
        "day=d3/part-run-3-publish-0.parquet",
    ]


def test_merge_refuses_duplicate_keys_in_the_input(tmp_path: Path) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"], "mode": "merge", "key": ["id"]}
    loaded(tmp_path, artifact(str(tmp_path / "a1"), ORDERS_1, ORDER_SCHEMA), "run-1", config)
    before = visible_files(target)
    duplicated = [*ORDERS_2, ORDERS_2[0], {"id": 5, "day": "d4", "amount": 5.0}, ORDERS_2[0]]

    result = load(
        tmp_path, artifact(str(tmp_path / "a2"), duplicated, ORDER_SCHEMA), "run-2", config
    )

    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}input 'daily' has 2 key value(s) on more than one row (key: id), e.g. id=2 "
        "on 3 rows; deduplicate the input (e.g. in a transform) or fix key"
    )
    assert visible_files(target) == before
    assert not (target / "_ferry_commits" / "run-2").exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"mode": "merge"},
            "invalid load-parquet config at (config): Value error, mode 'merge' needs key, "
            'the columns that identify a row; set key, e.g. "key": ["order_id"]',
        ),
        (
            {"key": ["n"]},
            "invalid load-parquet config at (config): Value error, key is used only by mode "
            "'merge', not 'append'; remove key",
        ),
        (
            {"mode": "merge", "key": ["n", "n"]},
            "invalid load-parquet config at (config): Value error, key names n more than once",
        ),
        (
            {"mode": "merge", "key": ["order_id"]},
            "key column(s) 'order_id' not in input 'daily' (columns: day, n); fix key",
        ),
    ],
)
def test_bad_merge_config_is_a_usage_error(
    tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    source = artifact(str(tmp_path / "a1"), DAY1)

    result = load(tmp_path, source, "run-1", {"path": str(tmp_path / "out"), **config})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"{WHERE}{message}"


def peak_rss_of_load(tmp_path: Path, rows: int) -> int:
    """Generate ``rows`` rows in 4 partitions, load them; return the step's peak RSS (bytes)."""
    uri = str(tmp_path / f"in-{rows}")
    writer = ArtifactWriter(open_location(uri), pipeline="demo", step="daily", run_id="r")
    rng = np.random.default_rng(0)
    for start in range(0, rows, 1 << 16):
        ids = np.arange(start, min(start + (1 << 16), rows), dtype=np.int64)
        writer.write(
            pa.record_batch(
                {
                    "day": pc.cast(pa.array(ids % 4), pa.string()),
                    "id": ids,
                    "amount": rng.random(len(ids)),
                    "note": pc.cast(pa.array(ids * 7919), pa.string()),
                }
            )
        )
    writer.commit()
    config = {"path": str(tmp_path / f"out-{rows}"), "partition_by": ["day"]}
    args = ["--pipeline", "demo", "--step", "publish", "--run-id", "run-1"]
    args += ["--store", str(tmp_path / "store"), "--input", f"daily={uri}"]
    process = subprocess.Popen(
        [sys.executable, "-m", "steps", "load-parquet", *args, "--config", json.dumps(config)],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss * 1024


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_input_size(tmp_path: Path) -> None:
    small = peak_rss_of_load(tmp_path, 1_000_000)
    large = peak_rss_of_load(tmp_path, 8_000_000)

    assert large <= 1.3 * small + 40 * 2**20, (small >> 20, large >> 20)


def duckdb_count(root: Path) -> int:
    """Rows DuckDB reads with the reader pattern the doc gives."""
    sql = f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)"
    return int(duckdb.sql(sql).fetchall()[0][0])


def test_a_killed_load_changes_nothing_duckdb_or_pyarrow_read(tmp_path: Path) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"]}
    loaded(tmp_path, artifact(str(tmp_path / "a0"), DAY1), "run-0", config)
    source = artifact(str(tmp_path / "a1"), [{"day": f"d{i % 7}", "n": i} for i in range(20_000)])
    args = ["--pipeline", "demo", "--step", "publish", "--run-id", "run-1", "--store"]
    args += [str(tmp_path / "store"), "--input", f"daily={source}", "--config"]
    args.append(json.dumps({**config, "batch_size": 10, "max_rows_per_file": 10}))
    process = subprocess.Popen(
        [sys.executable, "-m", "steps", "load-parquet", *args],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
    )
    while process.poll() is None and not any(tmp_path.rglob("part-run-1-publish-*.parquet")):
        pass
    process.kill()

    assert process.wait() == -9, "the load finished before it could be killed"
    assert any(tmp_path.rglob("part-run-1-publish-*.parquet"))
    assert duckdb_count(target) == 3
    assert dataset_rows(str(target)) == [("d1", 1), ("d1", 2), ("d2", 3)]

    loaded(tmp_path, artifact(str(tmp_path / "a2"), DAY2), "run-1", config)

    assert duckdb_count(target) == 5
    assert sorted(p.name for p in tmp_path.glob(".out.ferry-staging/*")) == []


def test_partition_by_every_column_is_a_usage_error(tmp_path: Path) -> None:
    source = artifact(str(tmp_path / "a1"), DAY1)

    result = load(
        tmp_path, source, "run-1", {"path": str(tmp_path / "out"), "partition_by": ["n", "day"]}
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}partition_by names every column of input 'daily' (day, n), leaving the files "
        "no column to hold the rows; leave at least one column out of partition_by"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("column", ["_src", ".src"])
def test_a_hidden_partition_column_is_a_config_error(tmp_path: Path, column: str) -> None:
    schema = pa.schema([(column, pa.string()), ("n", pa.int64())])
    source = artifact(str(tmp_path / "a1"), [{column: "a", "n": 1}], schema)

    result = load(
        tmp_path, source, "run-1", {"path": str(tmp_path / "out"), "partition_by": [column]}
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}invalid load-parquet config at partition_by: Value error, column(s) "
        f"'{column}' start with '_' or '.', so readers would skip their col=value folders; "
        "rename the column (e.g. in a transform) or leave it out of partition_by"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "s3://lake/",
            "'s3://lake/' is a bucket root; loads stage their files next to the dataset folder, "
            "so put the dataset under a prefix, e.g. s3://lake/<name>",
        ),
        ("/", "'/' cannot be a dataset; use a folder below it"),
    ],
)
def test_a_dataset_without_a_parent_folder_is_a_config_error(
    tmp_path: Path, path: str, message: str
) -> None:
    result = load(tmp_path, artifact(str(tmp_path / "a1"), DAY1), "run-1", {"path": path})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}invalid load-parquet config at path: Value error, {message}"
    )


def test_a_partition_value_too_long_for_a_folder_name_rejects_the_input(tmp_path: Path) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"], "batch_size": 2}
    loaded(tmp_path, artifact(str(tmp_path / "a0"), DAY1), "run-0", config)
    before = visible_files(target)
    long = "é" * 100
    source = artifact(str(tmp_path / "a1"), [*DAY2, {"day": long, "n": 5}])

    result = load(tmp_path, source, "run-1", config)

    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}partition_by column 'day' has value '{'é' * 40}...' whose folder name is 604 "
        "bytes URL-quoted, over the 255-byte limit of file systems; shorten or hash the value "
        "(e.g. in a transform) or leave the column out of partition_by"
    )
    assert visible_files(target) == before
    assert duckdb_count(target) == 3
    assert not (target / "_ferry_commits" / "run-1").exists()
    assert list(tmp_path.glob(".out.ferry-staging/*")) == []
