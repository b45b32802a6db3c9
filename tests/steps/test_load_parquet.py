"""``load-parquet`` end to end: modes, idempotent retries, nothing published on failure."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactWriter
from steps.runtime.store import open_location, s3_filesystem
from tests.conftest import run_step

WHERE = "ferry: pipeline 'demo', step 'publish': "


def artifact(uri: str, rows: list[dict[str, Any]]) -> str:
    writer = ArtifactWriter(open_location(uri), pipeline="demo", step="daily", run_id="r")
    table = pa.Table.from_pylist(rows, schema=pa.schema([("day", pa.string()), ("n", pa.int64())]))
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
    assert not (tmp_path / "out" / "_staging" / "run-2-publish").exists()


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
    staging = pafs.FileSelector(f"{s3_path}/_staging", recursive=True, allow_not_found=True)
    assert [i.path for i in s3_filesystem().get_file_info(staging) if i.is_file] == []


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
