"""One attempt of one task: a subprocess, its log, its deadline, its output parameters.

A step must not outlive its runner. Each step runs in its own session (process group),
so a stop reaches everything it started; and on Linux it also gets a parent-death
signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so even a ``kill -9`` of ``ferry run``
takes its steps with it.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from steps.contract import DEFAULT_OUTPUTS_DIR
from workflows.parent_death import die_with_runner
from workflows.runner.manifest import OutputParameter
from workflows.runner.retry import AttemptPhase
from workflows.runner.run_store import store_problem
from workflows.runner.tracing import AttemptIdentity, trace_attempt
from workflows.warmstart.starts import WARM_STARTS, ForkedStep

_POLL_SECONDS = 0.05

StepProcess = subprocess.Popen[bytes] | ForkedStep
"""A step's process: started cold by the runner, or forked by its fork server."""


class Cancellation:
    """A run-wide stop signal with the reason every stopped attempt reports."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.hurried = threading.Event()
        self.reason = ""

    def cancel(self, reason: str) -> None:
        """Stop every attempt (and backoff wait) of the run, for ``reason``."""
        self.reason = reason
        self.event.set()

    def hurry(self) -> None:
        """Skip the grace period: SIGKILL what is still running now."""
        self.hurried.set()

    def is_set(self) -> bool:
        """Whether the run was cancelled."""
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless cancelled first; True when cancelled."""
        return self.event.wait(seconds)


@dataclass(frozen=True)
class AttemptResult:
    """How an attempt ended."""

    phase: AttemptPhase
    exit_code: int | None
    reason: str
    duration_seconds: float
    outputs: dict[str, str] = field(default_factory=dict)
    store_problem: str | None = None
    """Set when the attempt's log could not be written to the store (one line)."""


@dataclass(frozen=True)
class AttemptSpec:
    """What to run for one attempt, everything already substituted."""

    argv: tuple[str, ...]
    env: dict[str, str]
    outputs_dir: Path
    outputs: tuple[OutputParameter, ...]
    log_file: Path
    header: str
    deadline_seconds: int | None
    kill_grace_seconds: float
    identity: AttemptIdentity | None = None
    """Which step attempt this is: ``FERRY_ATTEMPT`` and the attempt's span (tracing on)."""


def run_attempt(spec: AttemptSpec, cancel: Cancellation) -> AttemptResult:
    """Run ``python <argv>`` with the current interpreter until it ends, times out or is cancelled.

    stdout goes straight to the log file; stderr is copied there line by line and its
    last non-empty line becomes the failure reason. The process gets its own session
    so a kill reaches everything it started, and dies with the runner (see above).
    """
    spec.outputs_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    problems: list[str] = []
    traced = trace_attempt(spec.env, spec.identity)
    result = _run(replace(spec, env=traced.env), cancel, started, problems)
    traced.ended(result.phase.value, result.exit_code, result.reason)
    if problems:
        return replace(result, store_problem=problems[0])
    return result


def _run(
    spec: AttemptSpec, cancel: Cancellation, started: float, problems: list[str]
) -> AttemptResult:
    try:
        log = spec.log_file.open("ab", buffering=0)
        log.write(f"{spec.header}\n".encode())
    except OSError as err:
        problem = store_problem(str(spec.log_file), err)
        problems.append(problem)
        return AttemptResult(AttemptPhase.ERROR, None, problem, time.monotonic() - started)
    with log:
        try:
            # forked by the fork server (``workflows.warmstart``), else started cold
            process = WARM_STARTS.start(spec.argv, spec.env, spec.log_file) or subprocess.Popen(
                [sys.executable, *spec.argv],
                env=spec.env,
                stdout=log,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=die_with_runner(),
            )
        except OSError as err:
            reason = f"could not start {sys.executable}: {err}"
            _write(log, f"{reason}\n".encode(), spec.log_file, problems)
            return AttemptResult(AttemptPhase.ERROR, None, reason, time.monotonic() - started)
        last_line: list[str] = []
        assert process.stderr is not None
        copier = threading.Thread(
            target=_copy_stderr, args=(process.stderr, log, spec.log_file, last_line, problems)
        )
        copier.start()
        stopped_by = _wait(process, spec, started, cancel)
        copier.join()
    elapsed = time.monotonic() - started
    code = process.returncode
    assert code is not None  # waited for
    if stopped_by == "deadline":
        reason = (
            f"killed after exceeding activeDeadlineSeconds={spec.deadline_seconds}; "
            "raise the step's timeout if it needs longer"
        )
        return AttemptResult(AttemptPhase.FAILED, code, reason, elapsed)
    if stopped_by == "cancel":
        return AttemptResult(AttemptPhase.FAILED, code, cancel.reason, elapsed)
    if code != 0:
        reason = last_line[0] if last_line else _exit_description(code)
        return AttemptResult(AttemptPhase.FAILED, code, reason, elapsed, _written_outputs(spec))
    return _collect_outputs(spec, elapsed)


def _write(log: IO[bytes], data: bytes, path: Path, problems: list[str]) -> None:
    """Append to the log; after the first failure (a full store) only remember why."""
    if problems:
        return
    try:
        log.write(data)
    except OSError as err:
        problems.append(store_problem(str(path), err))


def _copy_stderr(
    stream: IO[bytes], log: IO[bytes], path: Path, last_line: list[str], problems: list[str]
) -> None:
    """Copy stderr into the log; keep draining it when the log cannot be written."""
    for raw in stream:
        _write(log, raw, path, problems)
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            last_line[:] = [text]
    stream.close()


def _wait(
    process: StepProcess, spec: AttemptSpec, started: float, cancel: Cancellation
) -> str | None:
    """Wait for the process; kill it at its deadline or on cancel. Returns what stopped it."""
    while True:
        try:
            process.wait(timeout=_POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        if (
            spec.deadline_seconds is not None
            and time.monotonic() - started >= spec.deadline_seconds
        ):
            _kill(process, spec.kill_grace_seconds, cancel)
            return "deadline"
        if cancel.is_set():
            _kill(process, spec.kill_grace_seconds, cancel)
            return "cancel"


def _kill(process: StepProcess, grace_seconds: float, cancel: Cancellation) -> None:
    """SIGTERM the process group, then SIGKILL it after the grace period (or when hurried)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    give_up = time.monotonic() + grace_seconds
    while time.monotonic() < give_up and not cancel.hurried.is_set():
        try:
            process.wait(timeout=_POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _exit_description(code: int) -> str:
    if code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code} and no message on stderr"


def _written_outputs(spec: AttemptSpec) -> dict[str, str]:
    """The output parameters a failed step still wrote (a quality gate's row counts).

    As Argo does for a failed pod, whatever files exist are collected; a missing one
    is no error here, the attempt has failed already.
    """
    values = {}
    for output in spec.outputs:
        path = spec.outputs_dir / output.file
        if path.is_file():
            values[output.name] = path.read_text(encoding="utf-8").strip()
    return values


def _collect_outputs(spec: AttemptSpec, elapsed: float) -> AttemptResult:
    values: dict[str, str] = {}
    for output in spec.outputs:
        path = spec.outputs_dir / output.file
        if path.is_file():
            values[output.name] = path.read_text(encoding="utf-8").strip()
        elif output.default is not None:
            values[output.name] = output.default
        else:
            reason = (
                f"output parameter {output.name!r}: the step wrote no "
                f"{DEFAULT_OUTPUTS_DIR}/{output.file}"
            )
            return AttemptResult(AttemptPhase.ERROR, 0, reason, elapsed)
    return AttemptResult(AttemptPhase.SUCCEEDED, 0, "", elapsed, values)
