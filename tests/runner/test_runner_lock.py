"""Two `ferry run` of one pipeline on one local store: the second is refused up front.

Real processes: the first run is a ``ferry run`` subprocess with a hanging step; the
second is another one. The lock is a ``flock``, so a runner killed by SIGKILL frees it.
"""

import fcntl
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from runner_testkit import container, run, start_ferry_run, wait_for_pids, workflow

from workflows.errors import UsageError
from workflows.runner.record import pid_alive

LOCK_LINE = (
    "ferry: pipeline 'demo' is already running in the store {store} (run {run_id}, pid {pid} "
    "on {host}); wait for it to end or stop it, then run again (lock {store}/runs/demo/.lock)\n"
)


def _running_run(store: Path) -> dict[str, Any]:
    [record_file] = (store / "runs" / "demo").glob("*/run.json")
    record: dict[str, Any] = json.loads(record_file.read_text())
    return record


@pytest.mark.slow
def test_a_second_run_of_a_running_pipeline_is_refused_and_a_killed_one_frees_the_lock(
    tmp_path: Path, marks: Path
) -> None:
    first = start_ferry_run(tmp_path, workflow([container("slow", "--hang")]), marks)
    pids = wait_for_pids(marks, ["slow"], first)
    store = tmp_path / "store"
    running = _running_run(store)

    second = start_ferry_run(tmp_path, workflow([container("quick")]), marks, "quick.yaml")
    stdout, stderr = second.communicate(timeout=60)

    assert (second.returncode, stdout) == (2, ""), stderr
    assert stderr == LOCK_LINE.format(
        store=store, run_id=running["run_id"], pid=first.pid, host=running["runner_host"]
    )
    assert len(list((store / "runs" / "demo").glob("*/run.json"))) == 1
    assert not (marks / "quick.start").exists()

    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    give_up = time.monotonic() + 5
    while pid_alive(pids["slow"]) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not pid_alive(pids["slow"])

    third = start_ferry_run(tmp_path, workflow([container("quick")]), marks, "quick.yaml")
    stdout, stderr = third.communicate(timeout=60)
    assert third.returncode == 0, stderr
    assert json.loads(stdout)["status"] == "Succeeded"


def test_another_pipeline_in_the_same_store_is_not_held_up(store: Path, marks: Path) -> None:
    lock_dir = store / "runs" / "other"
    lock_dir.mkdir(parents=True)
    with (lock_dir / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)

        record, _ = run(workflow([container("quick")]), store, marks)

    assert record.status.value == "Succeeded"


def test_without_flock_the_lock_file_decides_with_the_rule_of_abandoned_runs(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(fd: int, operation: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", unsupported)
    runs = store / "runs" / "demo"
    holder = {"run_id": "demo-zzzzz", "pid": os.getpid(), "host": socket.gethostname()}
    runs.mkdir(parents=True)
    (runs / ".lock").write_text(json.dumps(holder))

    with pytest.raises(UsageError, match=r"already running .* \(run demo-zzzzz, pid \d+ on "):
        run(workflow([container("quick")]), store, marks)

    gone = 2**22 + 1  # above pid_max: no such process
    (runs / ".lock").write_text(json.dumps({**holder, "pid": gone}))
    record, _ = run(workflow([container("quick")]), store, marks)
    assert record.status.value == "Succeeded"
    assert (runs / ".lock").read_text() == ""
