"""Artifacts: commit by manifest, read exactly the listed files, locally and on S3."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.errors import StepError
from steps.runtime.store import open_location

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _batch(ids: list[int]) -> pa.RecordBatch:
    return pa.record_batch([pa.array(ids), pa.array([f"n{i}" for i in ids])], schema=SCHEMA)


def _write(uri: str) -> dict[str, object]:
    writer = ArtifactWriter(open_location(uri), pipeline="demo", step="orders", run_id="r1")
    writer.write(_batch([1, 2]))
    writer.write(_batch([3]))
    writer.quarantine(
        pa.record_batch({"id": pa.array([9]), "_ferry_reason": pa.array(["id 9 is bad"])})
    )
    return writer.commit(cursor="3")


def test_commit_then_read_round_trip(tmp_path: Path) -> None:
    manifest = _write(str(tmp_path / "orders"))

    reader = ArtifactReader(open_location(str(tmp_path / "orders")), "orders")
    assert reader.manifest == manifest
    assert manifest["rows"] == {"data": 3, "quarantine": 1}
    assert manifest["cursor"] == "3"
    assert reader.rows == 3 and reader.rejected == 1
    assert reader.schema == SCHEMA
    assert pa.Table.from_batches(list(reader.batches())).to_pylist() == [
        {"id": 1, "name": "n1"},
        {"id": 2, "name": "n2"},
        {"id": 3, "name": "n3"},
    ]
    assert reader.dataset("quarantine").to_table().column("_ferry_reason").to_pylist() == [
        "id 9 is bad"
    ]
    written = json.loads((tmp_path / "orders" / "_manifest.json").read_text())
    assert written["format"] == "ferry-artifact/1"
    assert sorted(p.name for p in (tmp_path / "orders").rglob("*") if p.name.startswith(".")) == []


def test_empty_output_keeps_the_schema(tmp_path: Path) -> None:
    writer = ArtifactWriter(open_location(str(tmp_path)), pipeline="demo", step="s", run_id="r1")
    manifest = writer.commit(schema=SCHEMA)

    reader = ArtifactReader(open_location(str(tmp_path)), "s")
    assert manifest["rows"] == {"data": 0, "quarantine": 0}
    assert reader.schema == SCHEMA
    assert sum(b.num_rows for b in reader.batches()) == 0


def test_reader_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(pa.Table.from_batches([_batch([1])]), tmp_path / "data" / "part-x-00000.parquet")

    with pytest.raises(StepError) as err:
        ArtifactReader(open_location(str(tmp_path)), "orders")
    assert str(err.value) == (
        f"input 'orders' at {tmp_path} is incomplete: no _manifest.json (the step that "
        "writes it did not finish); rerun that step"
    )


def test_a_new_attempt_uncommits_the_old_artifact_first(tmp_path: Path) -> None:
    _write(str(tmp_path))
    ArtifactWriter(open_location(str(tmp_path)), pipeline="demo", step="orders", run_id="r1")

    with pytest.raises(StepError, match=r"is incomplete: no _manifest\.json"):
        ArtifactReader(open_location(str(tmp_path)), "orders")


@pytest.mark.parametrize("store", ["local", "s3"])
def test_a_retry_leaves_only_its_own_files(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    uri = (
        str(tmp_path / "orders")
        if store == "local"
        else (f"{request.getfixturevalue('s3_bucket')}/artifacts/r1/orders")
    )
    _write(uri)
    _write(uri)

    loc = open_location(uri)
    for part in ("data", "quarantine"):
        listed = ArtifactReader(loc, "orders").manifest["files"][part]
        on_disk = loc.fs.get_file_info(pafs.FileSelector(loc.child(part).path, recursive=True))
        assert sorted(f"{part}/{info.base_name}" for info in on_disk) == sorted(listed)
    globbed = ds.dataset(loc.child("quarantine").path, filesystem=loc.fs, format="parquet")
    assert globbed.count_rows() == 1


def test_files_not_in_the_manifest_are_ignored(tmp_path: Path) -> None:
    _write(str(tmp_path))
    stray = pa.Table.from_batches([_batch([100, 101])])
    pq.write_table(stray, tmp_path / "data" / "part-killed-00000.parquet")

    reader = ArtifactReader(open_location(str(tmp_path)), "orders")
    assert sum(b.num_rows for b in reader.batches()) == 3
    assert all("killed" not in p for p in reader.paths())


def test_s3_round_trip(s3_bucket: str) -> None:
    uri = f"{s3_bucket}/artifacts/r1/orders"
    _write(uri)

    reader = ArtifactReader(open_location(uri), "orders")
    assert reader.rows == 3
    assert reader.uris()[0].startswith(f"{uri}/data/part-")
    assert pa.Table.from_batches(list(reader.batches())).column("id").to_pylist() == [1, 2, 3]
