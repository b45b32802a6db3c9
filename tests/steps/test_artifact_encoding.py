"""Which columns an artifact dictionary-encodes: judged once per part on its first batch."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from steps.runtime.artifacts import DICTIONARY_SAMPLE_ROWS, ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location


def _encodings(path: str) -> dict[str, set[str]]:
    group = pq.ParquetFile(path).metadata.row_group(0)
    return {
        group.column(i).path_in_schema: set(group.column(i).encodings)
        for i in range(group.num_columns)
    }


def _write(tmp_path: Path, *batches: pa.RecordBatch) -> ArtifactReader:
    loc = open_location(str(tmp_path / "a"))
    writer = ArtifactWriter(loc, pipeline="p", step="s", run_id="r")
    for batch in batches:
        writer.write(batch)
    writer.commit()
    return ArtifactReader(loc, "s")


def test_repeating_columns_get_a_dictionary_and_distinct_ones_do_not(tmp_path: Path) -> None:
    rows = 2 * DICTIONARY_SAMPLE_ROWS
    batch = pa.record_batch(
        {
            "id": pa.array(range(rows), pa.int64()),
            "email": [f"user{n}@example.com" for n in range(rows)],
            "status": [("placed", "shipped", "returned")[n % 3] for n in range(rows)],
        }
    )
    reader = _write(tmp_path, batch, batch)
    encodings = _encodings(reader.paths()[0])
    assert "RLE_DICTIONARY" in encodings["status"]
    assert "RLE_DICTIONARY" not in encodings["id"]
    assert "RLE_DICTIONARY" not in encodings["email"]
    table = reader.dataset().to_table()
    assert table.schema == batch.schema
    assert table.to_pylist() == batch.to_pylist() * 2


def test_a_small_first_batch_keeps_pyarrows_default(tmp_path: Path) -> None:
    batch = pa.record_batch({"id": pa.array(range(10), pa.int64())})
    reader = _write(tmp_path, batch)
    assert "RLE_DICTIONARY" in _encodings(reader.paths()[0])["id"]
    assert reader.dataset().to_table().to_pylist() == batch.to_pylist()


def test_nested_columns_keep_pyarrows_default(tmp_path: Path) -> None:
    rows = DICTIONARY_SAMPLE_ROWS
    batch = pa.record_batch(
        {"id": pa.array(range(rows), pa.int64()), "tags": [[n % 2] for n in range(rows)]}
    )
    reader = _write(tmp_path, batch)
    assert reader.dataset().to_table().to_pylist() == batch.to_pylist()
    assert "RLE_DICTIONARY" in _encodings(reader.paths()[0])["id"]


def test_footers_keep_min_max_of_numbers_and_times_not_of_text(tmp_path: Path) -> None:
    batch = pa.record_batch(
        {
            "id": pa.array([3, 1, 2], pa.int64()),
            "at": pa.array([20_000, 19_000, 21_000], pa.date32()),
            "email": ["b@x.io", "a@x.io", None],
            "raw": pa.array([b"\x01", b"\x02", b"\x03"], pa.binary()),
        }
    )
    reader = _write(tmp_path, batch)
    group = pq.ParquetFile(reader.paths()[0]).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(4)}
    assert (stats["id"].min, stats["id"].max) == (1, 3)
    assert stats["at"].has_min_max
    assert stats["email"] is None and stats["raw"] is None
    assert reader.dataset().to_table().to_pylist() == batch.to_pylist()
