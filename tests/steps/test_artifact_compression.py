"""Artifacts are uncompressed in a local store, Snappy on S3, as FERRY_ARTIFACT_COMPRESSION says."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steps.runtime.artifact_compression import ENV, artifact_compression
from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.errors import StepUsageError
from steps.runtime.store import open_location
from tests.steps.test_transform import JOIN_SQL, make_artifact, transform

BATCH = pa.record_batch({"id": list(range(100)), "email": [f"u{n}@x.io" for n in range(100)]})


def _codecs(reader: ArtifactReader) -> set[str]:
    """The compression of every column chunk of the artifact's data files."""
    found = set()
    for path in reader.paths():
        with reader.loc.fs.open_input_file(path) as source:
            group = pq.ParquetFile(source).metadata.row_group(0)
            found |= {group.column(i).compression for i in range(group.num_columns)}
    return found


def _write(uri: str) -> ArtifactReader:
    loc = open_location(uri)
    writer = ArtifactWriter(loc, pipeline="p", step="s", run_id="r")
    writer.write(BATCH)
    writer.commit()
    return ArtifactReader(loc, "s")


def test_a_local_artifact_is_not_compressed(tmp_path: Path) -> None:
    reader = _write(str(tmp_path / "a"))
    assert _codecs(reader) == {"UNCOMPRESSED"}
    assert reader.dataset().to_table().to_pylist() == BATCH.to_pylist()


def test_an_artifact_on_s3_is_snappy(s3_bucket: str) -> None:
    reader = _write(f"{s3_bucket}/artifacts/r/s")
    assert _codecs(reader) == {"SNAPPY"}
    assert reader.dataset().to_table().to_pylist() == BATCH.to_pylist()


@pytest.mark.parametrize(("value", "codec"), [("zstd", "ZSTD"), (" Snappy ", "SNAPPY")])
def test_the_variable_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, codec: str
) -> None:
    monkeypatch.setenv(ENV, value)
    assert _codecs(_write(str(tmp_path / "a"))) == {codec}


def test_an_unknown_codec_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "lzma")
    with pytest.raises(StepUsageError) as raised:
        artifact_compression(open_location(str(tmp_path)))
    assert str(raised.value) == (
        "FERRY_ARTIFACT_COMPRESSION='lzma' is no Parquet codec artifacts can use; set one of "
        "none, snappy, lz4, zstd, gzip or unset it (none for a local store, snappy on S3)"
    )


@pytest.mark.parametrize(("value", "codec"), [(None, "UNCOMPRESSED"), ("zstd", "ZSTD")])
def test_a_transform_writes_its_files_with_the_same_codec(
    tmp_path: Path, value: str | None, codec: str
) -> None:
    store = str(tmp_path)
    inputs = {
        "orders": make_artifact(
            store, "orders", pa.record_batch({"customer_id": [10], "amount": [1.0]})
        ),
        "customers-clean": make_artifact(
            store, "customers-clean", pa.record_batch({"customer_id": [10], "name": ["Ada"]})
        ),
    }
    env = {} if value is None else {ENV: value}
    result, out = transform(store, tmp_path / "outputs", inputs, JOIN_SQL, env=env)
    assert result.returncode == 0, result.stderr
    reader = ArtifactReader(open_location(out), "daily")
    assert _codecs(reader) == {codec}
    assert reader.dataset().to_table().to_pylist() == [{"name": "Ada", "total": 1.0}]
