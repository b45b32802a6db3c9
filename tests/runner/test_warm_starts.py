"""Steps forked by the runner's fork server run exactly as after a cold start.

Each test runs real ``python -m steps`` attempts through ``run_attempt``, forked and
cold, and compares what a step sees and leaves: its import path (a pipeline folder
on ``PYTHONPATH`` that the server did not start with), its environment, its log, its
exit code and its failure line; and what happens when a forked step is stopped, when
its server dies, and when its runner is killed.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.store import open_location
from tests.steps.test_python_step import FNS, ORDERS, USER, make_artifact
from workflows.runner.attempt import AttemptResult, AttemptSpec, Cancellation, run_attempt
from workflows.runner.retry import AttemptPhase
from workflows.warmstart.starts import DISABLE_ENV, WARM_STARTS, ForkedStep, WarmStarts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ForkedStep | None]]:
    """Per attempt, the step the fork server forked, or None when it started cold."""
    seen: list[ForkedStep | None] = []
    start = WARM_STARTS.start

    def spy(argv: tuple[str, ...], env: dict[str, str], stdout: Path) -> ForkedStep | None:
        process = start(argv, env, stdout)
        seen.append(process)
        return process

    monkeypatch.setattr(WARM_STARTS, "start", spy)
    WARM_STARTS.want(1)
    yield seen
    WARM_STARTS.close()


def _server_ready(pool: WarmStarts) -> Any:
    """The pool's server once it has done its imports."""
    pool.want(1)
    deadline = time.monotonic() + 30
    while pool._server is None and time.monotonic() < deadline:
        time.sleep(0.02)
    server = pool._server
    assert server is not None and server.ready.wait(30)
    return server


def _spec(
    tmp_path: Path, name: str, config: dict[str, Any], deadline: int = 60, **env: str
) -> AttemptSpec:
    orders = make_artifact(tmp_path, f"orders-{name}", ORDERS)
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
        deadline_seconds=deadline,
        kill_grace_seconds=1.0,
    )


def _scaled(label: str) -> dict[str, Any]:
    return {
        "function": f"{FNS}.basic:scaled",
        "inputs": ["orders"],
        "params": {"factor": 2, "label": label},
    }


def _sleeps(seconds: float) -> dict[str, Any]:
    return {"function": f"{FNS}.slow:sleeps", "inputs": ["orders"], "params": {"seconds": seconds}}


def _rows(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    reader = ArtifactReader(open_location(str(tmp_path / "artifacts/r1" / name)), name)
    return reader.dataset().to_table().to_pylist()


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _wait_started(log: Path) -> None:
    """Wait until the step has logged ``step_started`` (it runs, past its imports)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log.exists() and '"step_started"' in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"no step_started line in {log}")


def _kinds(seen: list[ForkedStep | None]) -> list[bool]:
    return [step is not None for step in seen]


def test_a_forked_step_sees_its_own_import_path_environment_and_log(
    tmp_path: Path, forked: list[ForkedStep | None]
) -> None:
    spec = _spec(tmp_path, "warm", _scaled("${param:label}"), FERRY_PARAM_label="from-env")
    result = run_attempt(spec, Cancellation())
    assert _kinds(forked) == [True]
    assert result.phase is AttemptPhase.SUCCEEDED, result.reason
    table = _rows(tmp_path, "warm")
    assert [r["label"] for r in table] == ["from-env"] * len(ORDERS)
    assert [r["amount"] for r in table] == [2 * a for a in ORDERS["amount"].to_pylist()]
    log = spec.log_file.read_text().splitlines()
    assert log[0] == "==> warm"
    events = [json.loads(line)["event"] for line in log[1:] if line.startswith("{")]
    assert events[0] == "step_started" and events[-1] == "step_finished"


def test_forked_and_cold_attempts_leave_the_same_rows_and_failure(
    tmp_path: Path, forked: list[ForkedStep | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {"function": f"{FNS}.basic:no_such_function", "inputs": ["orders"]}
    warm_ok = run_attempt(_spec(tmp_path, "w-ok", _scaled("x")), Cancellation())
    warm_bad = run_attempt(_spec(tmp_path, "w-bad", bad), Cancellation())
    monkeypatch.setenv(DISABLE_ENV, "0")
    cold_ok = run_attempt(_spec(tmp_path, "c-ok", _scaled("x")), Cancellation())
    cold_bad = run_attempt(_spec(tmp_path, "c-bad", bad), Cancellation())
    assert _kinds(forked) == [True, True, False, False]
    assert (warm_ok.phase, warm_ok.exit_code) == (cold_ok.phase, cold_ok.exit_code)
    assert warm_ok.exit_code == 0
    assert warm_bad.exit_code == cold_bad.exit_code == 2
    assert warm_bad.reason == cold_bad.reason.replace("'c-bad'", "'w-bad'")
    assert _rows(tmp_path, "w-ok") == _rows(tmp_path, "c-ok")


def test_two_steps_forked_at_once_run_side_by_side(
    tmp_path: Path, forked: list[ForkedStep | None]
) -> None:
    results: dict[str, AttemptResult] = {}

    def attempt(name: str) -> None:
        results[name] = run_attempt(_spec(tmp_path, name, _sleeps(1.0)), Cancellation())

    started = time.monotonic()
    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _kinds(forked) == [True, True]
    assert [results[n].phase for n in ("one", "two")] == [AttemptPhase.SUCCEEDED] * 2
    assert time.monotonic() - started < 1.9  # both slept at the same time
    assert _rows(tmp_path, "one") == _rows(tmp_path, "two") == ORDERS.to_pylist()


def test_a_forked_step_is_killed_at_its_deadline_as_a_cold_one(
    tmp_path: Path, forked: list[ForkedStep | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = run_attempt(_spec(tmp_path, "w-late", _sleeps(30), deadline=1), Cancellation())
    monkeypatch.setenv(DISABLE_ENV, "0")
    cold = run_attempt(_spec(tmp_path, "c-late", _sleeps(30), deadline=1), Cancellation())
    assert _kinds(forked) == [True, False]
    assert (warm.phase, warm.exit_code, warm.reason) == (cold.phase, cold.exit_code, cold.reason)
    assert warm.reason == (
        "killed after exceeding activeDeadlineSeconds=1; "
        "raise the step's timeout if it needs longer"
    )
    assert warm.duration_seconds < 10


def test_when_the_server_dies_its_steps_end_killed_and_the_next_attempt_gets_a_new_one(
    tmp_path: Path, forked: list[ForkedStep | None]
) -> None:
    server = _server_ready(WARM_STARTS)
    spec = _spec(tmp_path, "orphaned", _sleeps(30))
    outcome: list[AttemptResult] = []
    running = threading.Thread(target=lambda: outcome.append(run_attempt(spec, Cancellation())))
    running.start()
    _wait_started(spec.log_file)
    step = forked[0]
    assert step is not None
    server.process.kill()
    running.join(timeout=30)
    [result] = outcome
    assert (result.phase, result.exit_code) == (AttemptPhase.FAILED, -signal.SIGKILL)
    assert result.reason == "killed by signal SIGKILL"
    assert _gone_within(step.pid, 5)
    again = run_attempt(_spec(tmp_path, "after", _scaled("x")), Cancellation())
    assert again.phase is AttemptPhase.SUCCEEDED, again.reason
    assert _kinds(forked) == [True, False]  # the attempt that found it dead started cold
    assert WARM_STARTS._server is not None and WARM_STARTS._server is not server


def test_an_attempt_whose_startup_settings_differ_starts_cold(tmp_path: Path) -> None:
    pool = WarmStarts()
    _server_ready(pool)
    log = tmp_path / "step.log"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    assert pool.start(("-m", "steps", "check"), env, log) is None  # started with another value
    assert pool.start(("-m", "other"), dict(os.environ), log) is None  # not a step
    step = pool.start(("-m", "steps"), {**os.environ, "PYTHONPATH": "/elsewhere"}, log)
    assert step is not None  # PYTHONPATH the child takes from the step
    assert step.wait(timeout=30) == 2  # no KIND: the usage error, as a cold start gives
    assert "the following arguments are required: KIND" in step.stderr.read().decode()
    step.stderr.close()
    pool.close()


def test_the_server_ends_once_no_task_may_start_an_attempt() -> None:
    pool = WarmStarts()
    server = _server_ready(pool)
    pool.want(0)
    assert server.gone.wait(5) and server.process.returncode == 0
    pool.want(2)
    assert _server_ready(pool) is not server  # wanted again: a new one
    pool.close()
    assert pool._server is None


def test_a_killed_runner_takes_its_forked_steps_with_it(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "abandoned", _sleeps(60))
    runner = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from workflows.warmstart.starts import WARM_STARTS
        WARM_STARTS.want(1)
        step = WARM_STARTS.start(tuple(json.loads(sys.argv[1])), json.loads(sys.argv[2]),
                                 Path({str(spec.log_file)!r}))
        print(step.pid if step else "cold", flush=True)
        step.wait()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", runner, json.dumps(spec.argv), json.dumps(spec.env)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    _wait_started(spec.log_file)
    proc.kill()
    proc.wait(timeout=30)
    assert _gone_within(pid, 5)


def test_the_server_imports_every_kind_and_leaves_one_that_fails_to_its_step() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        import steps.registry
        from workflows.warmstart import server
        broken = steps.registry.StepKind(
            "broken", "", "no_such_module_for_ferry:Config", "no_such_module_for_ferry:run", ""
        )
        steps.registry.KINDS["broken"] = broken
        server._preload()
        print(json.dumps(sorted(m for m in sys.modules if m.startswith(("steps.", "no_such")))))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = json.loads(done.stdout)
    for kind in ("steps.checks.step", "steps.extract.files.step", "steps.transform.step"):
        assert kind in loaded  # each kind's own modules, not only the harness
    assert "steps.checks.arrow_rules" in loaded
    assert not any(m.startswith("no_such") for m in loaded)
