"""`ferry run` on a store that fills up or turns read-only: one line, exit 1, a final record.

The full disk is real: a small tmpfs mounted for the test (root or CAP_SYS_ADMIN
needed; skipped with the reason otherwise), filled by a stand-in step until the
kernel answers ENOSPC. Read-only is the same tmpfs remounted ``ro`` mid-run (EROFS).
"""

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from runner_testkit import FERRY_ACCEPTING_INLINE_PYTHON, container, workflow

from workflows.runner import RunRecord

FILL = "{{workflow.parameters.store}}/filler.bin"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small filesystem to fill")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _ferry_run(
    tmp_path: Path, manifest: dict[str, Any], store: Path, marks: Path
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(manifest))
    return subprocess.run(
        [
            *FERRY_ACCEPTING_INLINE_PYTHON,
            "run",
            "--manifest",
            "workflow.yaml",
            "--store",
            str(store),
            "-p",
            f"marks={marks}",
            "--parallelism",
            "2",
            "--output",
            "json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _the_one_run(store: Path) -> tuple[Path, dict[str, Any]]:
    [record_file] = (store / "runs" / "demo").glob("*/run.json")
    return record_file, json.loads(record_file.read_text())


def _last_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    return stderr.splitlines()[-1]


def test_a_full_disk_stops_the_run_and_the_record_is_finalised_when_space_comes_back(
    tmp_path: Path, disk: Path, marks: Path
) -> None:
    store = disk / "store"
    manifest = workflow(
        [
            container("filler", "--fill", FILL, "--hang"),  # removes its file when stopped
            container("late", "--wait-full", "filler"),
        ]
    )

    result = _ferry_run(tmp_path, manifest, store, marks)

    record_file, saved = _the_one_run(store)
    problem = f"cannot write to the store: {record_file}: No space left on device (ENOSPC)"
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert _last_line(result.stderr) == (
        f"ferry: {problem}; the run was stopped and its record {record_file} finalised as Error"
    )
    record = RunRecord.model_validate(saved)
    assert (record.status.value, record.message) == ("Error", problem)
    assert record.finished is not None
    stopped = f"the run was stopped: {problem}; the attempt was killed"
    assert {t.name: (t.status.value, t.reason) for t in record.tasks} == {
        "filler": ("Failed", stopped),
        "late": ("Succeeded", None),
    }
    assert not list(record_file.parent.glob(".run.json.*.tmp"))


def test_a_disk_that_stays_full_is_named_and_the_record_said_not_finalised(
    tmp_path: Path, disk: Path, marks: Path
) -> None:
    store = disk / "store"
    manifest = workflow(
        [container("filler", "--fill", FILL), container("next")], {"next": ["filler"]}
    )

    result = _ferry_run(tmp_path, manifest, store, marks)

    record_file, saved = _the_one_run(store)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert _last_line(result.stderr) == (
        f"ferry: cannot write to the store: {record_file}: No space left on device (ENOSPC); "
        f"the run was stopped, and its record {record_file} could not be finalised: it still "
        "says Running, and `ferry runs` lists it as Abandoned once this runner has exited; "
        "free space in the store (or make it writable) and run again"
    )
    assert saved["status"] == "Running"
    listed = subprocess.run(
        [*FERRY_ACCEPTING_INLINE_PYTHON, "runs", "--store", str(store), "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [r["status"] for r in json.loads(listed.stdout)] == ["Abandoned"]


def test_a_full_disk_before_the_first_record_starts_nothing(
    tmp_path: Path, disk: Path, marks: Path
) -> None:
    store = disk / "store"
    store.mkdir()
    with (disk / "ballast").open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(bytes(4096))

    result = _ferry_run(tmp_path, workflow([container("never")]), store, marks)

    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    line = _last_line(result.stderr)
    assert line.startswith(f"ferry: cannot write to the store: {store}/runs/demo/demo-")
    assert line.endswith(": No space left on device (ENOSPC); nothing was started")
    assert not (marks / "never.start").exists()


def test_a_store_turned_read_only_mid_run_is_one_line(
    tmp_path: Path, disk: Path, marks: Path
) -> None:
    store = disk / "store"
    runs = store / "runs"
    remounted = marks / "remount.failing"  # what --wait-for waits for
    manifest = workflow([container("slow", "--hang"), container("quick", "--wait-for", "remount")])
    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(manifest))
    proc = subprocess.Popen(
        [
            *FERRY_ACCEPTING_INLINE_PYTHON,
            "run",
            "--manifest",
            "workflow.yaml",
            "--store",
            str(store),
            "-p",
            f"marks={marks}",
            "--parallelism",
            "2",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    bound = False
    try:
        give_up = time.monotonic() + 60
        while not ((marks / "slow.pid").exists() and (marks / "quick.pid").exists()):
            assert proc.poll() is None and time.monotonic() < give_up, proc.communicate()
            time.sleep(0.05)
        # The open log files keep the tmpfs busy, so make runs/ read-only with a bind mount.
        subprocess.run(["mount", "--bind", str(runs), str(runs)], check=True)
        bound = True
        subprocess.run(["mount", "-o", "remount,bind,ro", str(runs)], check=True)
        remounted.write_text("")
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if bound:
            subprocess.run(["umount", str(runs)], check=True)

    record_file, saved = _the_one_run(store)
    assert proc.returncode == 1, stderr
    assert _last_line(stderr) == (
        f"ferry: cannot write to the store: {record_file}: Read-only file system (EROFS); "
        f"the run was stopped, and its record {record_file} could not be finalised: it still "
        "says Running, and `ferry runs` lists it as Abandoned once this runner has exited; "
        "free space in the store (or make it writable) and run again"
    )
    assert saved["status"] == "Running"
