"""``extract-files`` and the file system: compression, and faults as one line naming the path.

Most tests run the step as a subprocess. Faults that need a moment between listing and
reading (a file that vanishes) or another user (a file the step may not read) run the
step's readers in this process, where the test can act in between.
"""

import contextlib
import gzip
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from steps.extract.files.config import FilesExtract
from steps.extract.files.listing import list_source_files
from steps.extract.files.read_csv import read_csv
from steps.extract.files.read_jsonl import read_jsonl
from steps.extract.files.schema import TargetSchema
from steps.runtime.errors import EXIT_FAILED, StepError
from tests.steps.test_extract_files import WHERE, failure, ok, rows

CSV = "id,name\n1,a\n2,b\n"
JSONL = '{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n'
EXPECTED = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize(
    ("name", "compress", "fmt", "compression"),
    [
        ("t.csv.gz", gzip.compress, "csv", None),
        ("t.csv.zst", zstd, "csv", None),
        ("t.jsonl.gz", gzip.compress, "jsonl", None),
        ("t.jsonl.zst", zstd, "jsonl", None),
        ("t.csv", gzip.compress, "csv", "gzip"),
        ("t.data", zstd, "jsonl", "zstd"),
    ],
)
def test_compressed_files_by_suffix_or_named(
    tmp_path: Path, name: str, compress: Any, fmt: str, compression: str | None
) -> None:
    text = CSV if fmt == "csv" else JSONL
    (tmp_path / name).write_bytes(compress(text.encode()))
    config: dict[str, Any] = {"path": str(tmp_path / name), "format": fmt}
    if compression:
        config["compression"] = compression

    assert rows(ok(tmp_path, config)) == EXPECTED


@pytest.mark.parametrize(
    ("name", "compress", "fmt", "codec", "how"),
    [
        ("t.csv", gzip.compress, "csv", "gzip", "compression 'auto' found no compressed suffix"),
        ("t.jsonl", zstd, "jsonl", "zstd", "compression 'auto' found no compressed suffix"),
        ("t.csv.gz", gzip.compress, "csv", "gzip", "compression is 'none'"),
    ],
)
def test_compressed_file_read_as_text_is_refused(
    tmp_path: Path, name: str, compress: Any, fmt: str, codec: str, how: str
) -> None:
    path = tmp_path / name
    path.write_bytes(compress((CSV if fmt == "csv" else JSONL).encode()))
    config = {"path": str(path), "format": fmt}
    if "none" in how:
        config["compression"] = "none"

    assert failure(tmp_path, config, exit_code=2) == (
        f"{WHERE}{path} looks {codec}-compressed, but {how} on its name; set compression to "
        f"'{codec}' (or give the file its suffix)"
        if "auto" in how
        else f"{WHERE}{path} looks {codec}-compressed, but {how}; set compression to "
        f"'{codec}' (or give the file its suffix)"
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.csv.gz", CSV.encode()),
        ("cut.csv.gz", gzip.compress(b"id\n" + os.urandom(1 << 16).hex().encode())[:-200]),
    ],
)
def test_file_that_does_not_decompress_is_rejected(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)

    message = failure(tmp_path, {"path": str(tmp_path / name), "format": "csv"}, exit_code=3)

    assert message.startswith(f"{WHERE}{tmp_path / name}: cannot decompress as gzip: ")
    assert message.endswith(
        "; check that the file is complete and gzip-compressed, or set compression"
    )


def test_compression_is_refused_for_parquet(tmp_path: Path) -> None:
    message = failure(
        tmp_path,
        {"path": str(tmp_path / "p.parquet"), "format": "parquet", "compression": "gzip"},
        exit_code=2,
    )
    assert "compression 'gzip' applies to csv and jsonl files" in message


@pytest.mark.parametrize(
    ("name", "fmt"), [("in", "csv"), ("orders.csv", "csv"), ("p.parquet", "parquet")]
)
def test_folder_where_a_file_is_expected(tmp_path: Path, name: str, fmt: str) -> None:
    (tmp_path / name).mkdir()

    assert failure(tmp_path, {"path": str(tmp_path / name), "format": fmt}, exit_code=2) == (
        f"{WHERE}{tmp_path / name} is a folder, not a file; name a file, or a glob such as "
        f"{tmp_path / name}/*"
    )


def read_all(path: str, fmt: str = "csv") -> list[Any]:
    """Run the step's listing and reader in this process."""
    config = FilesExtract(path=path, format=fmt)  # type: ignore[arg-type]
    reader = read_csv if fmt == "csv" else read_jsonl
    target = TargetSchema(None)
    return [part for loc in list_source_files(path) for part in reader(loc, config, target)]


def test_unreadable_file_and_folder_are_one_line_errors() -> None:
    folder = Path(tempfile.mkdtemp(prefix="ferry-perm-"))
    try:
        folder.chmod(0o755)
        (folder / "a.csv").write_text(CSV)
        (folder / "a.csv").chmod(0o000)
        (folder / "sub").mkdir()
        (folder / "sub" / "b.csv").write_text(CSV)
        (folder / "sub").chmod(0o000)
        with as_another_user_in(folder):
            with pytest.raises(StepError) as file_err:
                read_all(str(folder / "a.csv"))
            with pytest.raises(StepError) as glob_err:
                read_all(str(folder / "sub" / "*.csv"))
    finally:
        for path in (folder / "a.csv", folder / "sub"):
            path.chmod(0o755)
        subprocess.run(["rm", "-rf", str(folder)], check=False)

    assert file_err.value.exit_code == EXIT_FAILED
    assert str(file_err.value) == (
        f"{folder / 'a.csv'}: permission denied; let the step's user read it (file or folder "
        "mode, owner, or bucket policy)"
    )
    assert glob_err.value.exit_code == EXIT_FAILED
    assert str(glob_err.value).startswith(f"{folder / 'sub'}/*.csv: permission denied; ")


@contextlib.contextmanager
def as_another_user_in(folder: Path) -> Iterator[None]:
    """Run the block so that mode 000 keeps it out (as ``nobody`` when the tests run as root)."""
    if os.geteuid() != 0:
        yield
        return
    try:
        os.seteuid(65534)
    except OSError as err:
        pytest.skip(f"running as root, chmod does not stop root, and seteuid failed: {err}")
    try:
        yield
    finally:
        os.seteuid(0)


def test_file_that_vanishes_after_listing(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV)
    (tmp_path / "b.csv").write_text(CSV)
    config = FilesExtract(path=str(tmp_path / "*.csv"), format="csv")
    files = list_source_files(config.path)
    target = TargetSchema(None)
    assert len(list(read_csv(files[0], config, target))) == 1
    (tmp_path / "b.csv").unlink()

    with pytest.raises(StepError) as err:
        list(read_csv(files[1], config, target))

    assert err.value.exit_code == EXIT_FAILED
    assert str(err.value) == (
        f"{tmp_path / 'b.csv'}: the file is gone (deleted or moved after it was listed, or while "
        "it was read); rerun once the files stay in place"
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_s3_object_that_vanishes_while_it_is_read(
    tmp_path: Path, s3_bucket: str, s3_env: dict[str, str], fmt: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    bucket = s3_bucket.removeprefix("s3://")
    line = "1,abcdefghij\n" if fmt == "csv" else '{"id": 1, "name": "abcdefghij"}\n'
    body = ("id,name\n" if fmt == "csv" else "") + line * 800_000
    s3.put_object(Bucket=bucket, Key=f"in/a.{fmt}", Body=body.encode())
    csv = {"block_size": 1 << 16, "max_field_bytes": 1 << 10}
    config = FilesExtract(path=f"{s3_bucket}/in/a.{fmt}", format=fmt, csv=csv)  # type: ignore[arg-type]
    loc = list_source_files(config.path)[0]
    reader = (read_csv if fmt == "csv" else read_jsonl)(loc, config, TargetSchema(None))
    next(reader)
    s3.delete_object(Bucket=bucket, Key=f"in/a.{fmt}")

    with pytest.raises(StepError) as err:
        list(reader)

    assert err.value.exit_code == EXIT_FAILED
    assert str(err.value).startswith(f"{s3_bucket}/in/a.{fmt}: the file is gone")


STEP = [
    *(sys.executable, "-m", "steps", "extract-files"),
    *("--pipeline", "demo", "--step", "orders", "--run-id", "r1"),
]


def limit_file_size() -> None:
    """In the child: files may not grow past 64 KiB (writes fail with EFBIG, not SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))


def random_csv(path: Path, rows: int) -> None:
    path.write_text("id,v\n" + "".join(f"{n},{os.urandom(40).hex()}\n" for n in range(rows)))


def test_output_past_the_file_size_limit_is_one_line(tmp_path: Path) -> None:
    random_csv(tmp_path / "t.csv", 20_000)
    output = tmp_path / "store" / "artifacts" / "r1" / "orders"
    config = {"path": str(tmp_path / "t.csv"), "format": "csv", "batch_size": 4096}
    result = subprocess.run(
        [
            *(*STEP, "--store", str(tmp_path / "store"), "--output", str(output)),
            *("--config", json.dumps(config)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
        preexec_fn=limit_file_size,
        timeout=240,
    )

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}cannot write the artifact at {output}: a file would exceed the largest file "
        "size allowed (file system or ulimit -f); free space or give the step more room, then retry"
    )


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and mount); skips where it cannot be mounted."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_output_on_a_full_disk_is_one_line(tmp_path: Path, tiny_disk: Path) -> None:
    random_csv(tmp_path / "t.csv", 40_000)
    output = tiny_disk / "store" / "artifacts" / "r1" / "orders"
    result = subprocess.run(
        [
            *(*STEP, "--store", str(tiny_disk / "store"), "--output", str(output)),
            *("--config", json.dumps({"path": str(tmp_path / "t.csv"), "format": "csv"})),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")},
        timeout=240,
    )

    assert result.returncode == EXIT_FAILED, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"{WHERE}cannot write the artifact at {output}: no space left on the device; free space "
        "or give the step more room, then retry"
    )
