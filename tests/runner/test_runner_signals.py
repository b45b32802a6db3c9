"""`ferry run` stopped by a signal: its steps die with it, and its record says what happened.

Real processes and real signals: ``ferry run`` is a subprocess running a manifest of
stand-in tasks (see ``runner_testkit``), the steps are its children, and the test
checks by pid that none of them survives.
"""

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from runner_testkit import (
    FERRY_ACCEPTING_INLINE_PYTHON,
    container,
    run,
    start_ferry_run,
    wait_for_pids,
    workflow,
)

from workflows.runner import RunRecord, RunStatus
from workflows.runner.record import abandoned_reason, pid_alive

FERRY = FERRY_ACCEPTING_INLINE_PYTHON
KILL_GRACE_SECONDS = 5.0
"""What ``ferry run`` waits between SIGTERM and SIGKILL of a step."""


def _gone_within(pids: dict[str, int], seconds: float) -> dict[str, int]:
    """The pids still alive after ``seconds`` (empty when all died)."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        alive = {n: p for n, p in pids.items() if pid_alive(p)}
        if not alive:
            return {}
        time.sleep(0.05)
    return {n: p for n, p in pids.items() if pid_alive(p)}


def _ferry_runs(tmp_path: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [*FERRY, "runs", "--store", "store", "--output", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def _hanging_pipeline() -> dict[str, Any]:
    """Two slow steps side by side (one ignores SIGTERM) and one that would run after them."""
    return workflow(
        [
            container("slow", "--hang"),
            container("stubborn", "--hang", "--ignore-sigterm"),
            container("after"),
        ],
        {"after": ["slow", "stubborn"]},
    )


@pytest.mark.slow
def test_sigterm_stops_the_steps_and_finalises_the_record(tmp_path: Path, marks: Path) -> None:
    proc = start_ferry_run(tmp_path, _hanging_pipeline(), marks)
    pids = wait_for_pids(marks, ["slow", "stubborn"], proc)
    [during] = _ferry_runs(tmp_path)
    assert during["status"] == "Running"
    assert during["runner_pid"] == proc.pid

    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - sent

    assert proc.returncode == 1, stderr
    assert stderr.endswith(f"ferry: run {during['run_id']} of demo failed: stopped by SIGTERM\n")
    assert "■ SIGTERM: stopping the run; killing slow, stubborn (SIGTERM, then SIGKILL" in stderr
    assert _gone_within(pids, 0) == {}
    assert KILL_GRACE_SECONDS <= took < KILL_GRACE_SECONDS + 10  # stubborn needed the SIGKILL
    record = RunRecord.model_validate_json(stdout)
    saved = RunRecord.model_validate_json(
        (tmp_path / "store" / "runs" / "demo" / record.run_id / "run.json").read_text()
    )
    assert saved == record
    assert (record.status, record.message) == (RunStatus.FAILED, "stopped by SIGTERM")
    assert record.finished is not None
    stopped = "the run was stopped by SIGTERM; the attempt was killed"
    tasks = {t.name: (t.status.value, t.exit_code, t.reason) for t in record.tasks}
    assert tasks == {
        "slow": ("Failed", -signal.SIGTERM, stopped),
        "stubborn": ("Failed", -signal.SIGKILL, stopped),
        "after": ("Omitted", None, None),
    }
    assert [r["status"] for r in _ferry_runs(tmp_path)] == ["Failed"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "message"), [(signal.SIGTERM, "stopped by SIGTERM"), (signal.SIGINT, "interrupted")]
)
def test_a_second_signal_kills_the_steps_at_once(
    tmp_path: Path, marks: Path, sig: signal.Signals, message: str
) -> None:
    proc = start_ferry_run(tmp_path, _hanging_pipeline(), marks)
    pids = wait_for_pids(marks, ["slow", "stubborn"], proc)

    sent = time.monotonic()
    proc.send_signal(sig)
    time.sleep(0.5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 1, stderr
    assert stderr.endswith(f" of demo failed: {message}\n")
    assert time.monotonic() - sent < KILL_GRACE_SECONDS
    assert _gone_within(pids, 0) == {}
    record = RunRecord.model_validate_json(stdout)
    assert (record.status, record.message) == (RunStatus.FAILED, message)
    assert record.task("stubborn").exit_code == -signal.SIGKILL


@pytest.mark.slow
def test_sigkill_takes_the_steps_with_it_and_the_run_is_listed_abandoned(
    tmp_path: Path, marks: Path
) -> None:
    proc = start_ferry_run(tmp_path, _hanging_pipeline(), marks)
    pids = wait_for_pids(marks, ["slow", "stubborn"], proc)

    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)

    assert proc.returncode == -signal.SIGKILL
    assert _gone_within(pids, 5) == {}
    [listed] = _ferry_runs(tmp_path)
    assert listed["status"] == "Abandoned"
    assert listed["message"] == (
        f"the runner (pid {proc.pid} on {listed['runner_host']}) is gone; the run never finished"
    )
    saved = json.loads(
        (tmp_path / "store" / "runs" / "demo" / listed["run_id"] / "run.json").read_text()
    )
    assert saved["status"] == "Running"  # the file is as the runner left it; readers judge
    table = subprocess.run(
        [*FERRY, "runs", "--store", "store"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "Abandoned" in table.stdout and "Running" not in table.stdout


def _running_record(**fields: Any) -> RunRecord:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "run_id": "demo-abcde",
        "pipeline": "demo",
        "source": "workflow.yaml",
        "store": "/store",
        "parameters": {},
        "started": now - timedelta(hours=1),
        "tasks": [],
        "runner_pid": os.getpid(),
        "runner_host": "this-host",
        "heartbeat": now,
    }
    values.update(fields)
    return RunRecord(**values)


def test_a_running_record_is_abandoned_when_its_heartbeat_is_stale_even_on_another_host() -> None:
    now = datetime.now(UTC)

    live_here = _running_record()
    live_elsewhere = _running_record(runner_host="other-host", runner_pid=1)
    stale_elsewhere = _running_record(
        runner_host="other-host", runner_pid=1, heartbeat=now - timedelta(minutes=3)
    )
    before_heartbeats = _running_record(runner_pid=None, runner_host=None, heartbeat=None)

    assert abandoned_reason(live_here, host="this-host") is None
    assert abandoned_reason(live_elsewhere, host="this-host") is None
    assert abandoned_reason(stale_elsewhere, host="this-host", now=now) == (
        "no heartbeat from the runner (pid 1 on other-host) since "
        f"{stale_elsewhere.heartbeat:%Y-%m-%d %H:%M:%S} UTC (more than 0:02:00); "
        "the run never finished"
    )
    assert abandoned_reason(before_heartbeats, host="this-host", now=now) is not None
    assert abandoned_reason(_running_record(status=RunStatus.FAILED), host="x") is None


def test_the_record_gets_a_heartbeat_while_a_step_runs(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container(
                "slow",
                "--sleep",
                "1",
                "--snapshot",
                "{{workflow.parameters.store}}/runs/demo/{{workflow.name}}/run.json",
            )
        ]
    )

    run(manifest, store, marks, heartbeat_seconds=0.1)

    during = RunRecord.model_validate_json((marks / "slow.snapshot").read_text())
    started = during.task("slow").started
    assert during.status is RunStatus.RUNNING
    assert during.heartbeat is not None and started is not None
    assert during.heartbeat - started > timedelta(seconds=0.7)
