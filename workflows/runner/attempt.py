"""One attempt of one task: a subprocess, its log, its deadline, its output parameters."""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from steps.contract import DEFAULT_OUTPUTS_DIR
from workflows.runner.manifest import OutputParameter
from workflows.runner.retry import AttemptPhase

_POLL_SECONDS = 0.05


class Cancellation:
    """A run-wide stop signal with the reason every stopped attempt reports."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str) -> None:
        """Stop every attempt (and backoff wait) of the run, for ``reason``."""
        self.reason = reason
        self.event.set()

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


def run_attempt(spec: AttemptSpec, cancel: Cancellation) -> AttemptResult:
    """Run ``python <argv>`` with the current interpreter until it ends, times out or is cancelled.

    stdout goes straight to the log file; stderr is copied there line by line and its
    last non-empty line becomes the failure reason. The process gets its own session
    so a kill reaches everything it started.
    """
    spec.outputs_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with spec.log_file.open("ab") as log:
        log.write(f"{spec.header}\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                [sys.executable, *spec.argv],
                env=spec.env,
                stdout=log,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            reason = f"could not start {sys.executable}: {err}"
            log.write(f"{reason}\n".encode())
            return AttemptResult(AttemptPhase.ERROR, None, reason, time.monotonic() - started)
        last_line: list[str] = []
        assert process.stderr is not None
        copier = threading.Thread(target=_copy_stderr, args=(process.stderr, log, last_line))
        copier.start()
        stopped_by = _wait(process, spec, started, cancel)
        copier.join()
    elapsed = time.monotonic() - started
    code = process.returncode
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


def _copy_stderr(stream: IO[bytes], log: IO[bytes], last_line: list[str]) -> None:
    for raw in stream:
        log.write(raw)
        log.flush()
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            last_line[:] = [text]
    stream.close()


def _wait(
    process: subprocess.Popen[bytes], spec: AttemptSpec, started: float, cancel: Cancellation
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
            _kill(process, spec.kill_grace_seconds)
            return "deadline"
        if cancel.is_set():
            _kill(process, spec.kill_grace_seconds)
            return "cancel"


def _kill(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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
