"""Steps started in interpreters started ahead run exactly as after a cold start.

Each test runs real ``python -m steps`` attempts through ``run_attempt``, warm and
cold, and compares what a step sees and leaves: its import path (a pipeline folder
on ``PYTHONPATH`` that the interpreter did not start with), its environment, its
log, its exit code and its failure line.
"""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.steps.test_python_step import FNS, ORDERS, USER, make_artifact
from workflows.runner.attempt import AttemptSpec, Cancellation, run_attempt
from workflows.runner.retry import AttemptPhase
from workflows.runner.warm import DISABLE_ENV, WARM_STARTS, WarmStarts


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Per attempt, whether it ran in an interpreter started ahead."""
    seen: list[bool] = []
    take = WARM_STARTS.take

    def spy(argv: tuple[str, ...], env: dict[str, str]) -> Any:
        process = take(argv, env)
        seen.append(process is not None)
        return process

    monkeypatch.setattr(WARM_STARTS, "take", spy)
    yield seen
    WARM_STARTS.close()


def _wait_until_ready(pool: WarmStarts = WARM_STARTS, count: int = 1) -> None:
    pool.want(count)
    deadline = time.monotonic() + 30
    while len(pool._ready) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def _spec(tmp_path: Path, name: str, config: dict[str, Any], **env: str) -> AttemptSpec:
    orders = make_artifact(tmp_path, "orders", ORDERS)
    argv = (
        *("-m", "steps", "python", "--pipeline", "p", "--step", name, "--run-id", "r1"),
        *("--store", str(tmp_path), "--input", f"orders={orders}"),
        *("--output", str(tmp_path / "artifacts" / "r1" / name), "--config", json.dumps(config)),
    )
    outputs = tmp_path / f"outputs-{name}"
    environment = {
        **os.environ,
        "PYTHONPATH": str(USER),  # the pipeline's folder, as the runner sets it
        "FERRY_OUTPUTS_DIR": str(outputs),
        **env,
    }
    return AttemptSpec(
        argv=argv,
        env=environment,
        outputs_dir=outputs,
        outputs=(),
        log_file=tmp_path / f"{name}.log",
        header=f"==> {name}",
        deadline_seconds=60,
        kill_grace_seconds=1.0,
    )


def _scaled(label: str) -> dict[str, Any]:
    return {
        "function": f"{FNS}.basic:scaled",
        "inputs": ["orders"],
        "params": {"factor": 2, "label": label},
    }


def test_a_warm_step_sees_its_own_import_path_environment_and_log(
    tmp_path: Path, taken: list[bool]
) -> None:
    _wait_until_ready()
    spec = _spec(tmp_path, "warm", _scaled("${param:label}"), FERRY_PARAM_label="from-env")
    result = run_attempt(spec, Cancellation())
    assert taken == [True]
    assert result.phase is AttemptPhase.SUCCEEDED, result.reason
    out = ArtifactReader(open_location(str(tmp_path / "artifacts/r1/warm")), "warm")
    table = out.dataset().to_table().to_pylist()
    assert [r["label"] for r in table] == ["from-env"] * len(ORDERS)
    assert [r["amount"] for r in table] == [2 * a for a in ORDERS["amount"].to_pylist()]
    log = spec.log_file.read_text().splitlines()
    assert log[0] == "==> warm"
    events = [json.loads(line)["event"] for line in log[1:] if line.startswith("{")]
    assert events[0] == "step_started" and events[-1] == "step_finished"


def test_warm_and_cold_attempts_leave_the_same_rows_and_failure(
    tmp_path: Path, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {"function": f"{FNS}.basic:no_such_function", "inputs": ["orders"]}
    _wait_until_ready()
    warm_ok = run_attempt(_spec(tmp_path, "w-ok", _scaled("x")), Cancellation())
    _wait_until_ready()
    warm_bad = run_attempt(_spec(tmp_path, "w-bad", bad), Cancellation())
    monkeypatch.setenv(DISABLE_ENV, "0")
    cold_ok = run_attempt(_spec(tmp_path, "c-ok", _scaled("x")), Cancellation())
    cold_bad = run_attempt(_spec(tmp_path, "c-bad", bad), Cancellation())
    assert taken == [True, True, False, False]
    assert (warm_ok.phase, warm_ok.exit_code) == (cold_ok.phase, cold_ok.exit_code)
    assert warm_ok.exit_code == 0
    assert warm_bad.exit_code == cold_bad.exit_code == 2
    assert warm_bad.reason == cold_bad.reason.replace("'c-bad'", "'w-bad'")

    def rows(name: str) -> list[dict[str, Any]]:
        reader = ArtifactReader(open_location(str(tmp_path / "artifacts/r1" / name)), name)
        return reader.dataset().to_table().to_pylist()

    assert rows("w-ok") == rows("c-ok")


def test_an_attempt_whose_startup_settings_differ_starts_cold(tmp_path: Path) -> None:
    pool = WarmStarts(ready=1)
    _wait_until_ready(pool)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    assert pool.take(("-m", "steps", "check"), env) is None  # started with another setting
    _wait_until_ready(pool)
    assert pool.take(("-m", "other"), dict(os.environ)) is None  # not a step
    process = pool.take(("-m", "steps", "check"), {**os.environ, "PYTHONPATH": "/elsewhere"})
    assert process is not None  # PYTHONPATH the interpreter takes from the step
    assert process.stdin is not None
    process.stdin.close()  # no order: it exits without running anything
    assert process.wait(timeout=30) == 0
    pool.close()


def test_ready_interpreters_end_when_no_step_is_left_to_use_them() -> None:
    pool = WarmStarts(ready=2)
    _wait_until_ready(pool, count=2)
    ready = list(pool._ready)
    assert len(ready) == 2
    pool.want(1)  # one step left to start: one spare is stopped
    assert pool._ready == ready[:1] and ready[1].process.poll() is not None
    pool.close()
    assert ready[0].process.wait(timeout=5) is not None and pool._ready == []
