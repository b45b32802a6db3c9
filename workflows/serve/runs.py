"""Run processes: each run is ``ferry run PIPELINE`` in its own process and session.

The same code path as a person's ``ferry run``: the child renders the pipeline's
Workflow and the local runner executes that manifest, writing its own run record.
A separate process means a run that crashes (or is killed) cannot take the server
down; a separate session means Ctrl-C on the server's terminal reaches the server
only, which then stops its runs with SIGTERM, the signal the runner records itself
stopped by. A run adopted after a restart is known by its pid only.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workflows.runner.record import pid_alive

STDERR_TAIL_BYTES = 4096
"""How much of a finished run's stderr the finish line quotes (its last line)."""


class RunProcess(Protocol):
    """A started run the scheduler watches and may stop."""

    @property
    def pid(self) -> int:
        """Process id of the run's ``ferry run``."""
        ...

    def exit_code(self) -> int | None:
        """None while it runs; its exit code (or -1 when unknown) once it ended."""
        ...

    def stop(self) -> None:
        """Ask it to stop (SIGTERM): the runner stops its steps and records the run stopped."""
        ...

    def kill(self) -> None:
        """End it and its steps now (SIGKILL to its process group)."""
        ...

    def last_error(self) -> str:
        """The last line it wrote to stderr (a refusal's one-line reason), or ''."""
        ...

    def close(self) -> None:
        """Forget it once it ended (removes its scratch files)."""
        ...


class Launcher(Protocol):
    """Starts runs; the scheduler's only way to run anything."""

    def launch(self, pipeline: str, parameters: Mapping[str, str]) -> RunProcess:
        """Start one run of ``pipeline`` with these ``-p`` values."""
        ...

    def adopt(self, pid: int) -> RunProcess:
        """A handle on a run started by an earlier server process."""
        ...


def is_ferry_run(pid: int) -> bool:
    """Whether ``pid`` is a live ``ferry run`` (not a process that took over a freed pid)."""
    if not pid_alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc to ask: trust the pid
    return any(arg.endswith((b"ferry", b"workflows.cli")) for arg in argv) and b"run" in argv


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class ChildRun:
    """A run this server started: a child process with its stderr in a scratch file."""

    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def pid(self) -> int:
        """Process id (also its process group and session id)."""
        return self.process.pid

    def exit_code(self) -> int | None:
        """See :class:`RunProcess`."""
        return self.process.poll()

    def stop(self) -> None:
        """See :class:`RunProcess`."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """See :class:`RunProcess`."""
        _signal_group(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def last_error(self) -> str:
        """See :class:`RunProcess`."""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.stderr_path) - STDERR_TAIL_BYTES))
                lines = f.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def close(self) -> None:
        """See :class:`RunProcess`."""
        self.stderr_path.unlink(missing_ok=True)


@dataclass
class AdoptedRun:
    """A run a previous server process started, still alive on this host."""

    run_pid: int

    @property
    def pid(self) -> int:
        """Process id of the run's ``ferry run``."""
        return self.run_pid

    def exit_code(self) -> int | None:
        """None while alive; -1 once gone (not our child: its exit code is not ours to read)."""
        return None if pid_alive(self.run_pid) else -1

    def stop(self) -> None:
        """See :class:`RunProcess`."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.run_pid, signal.SIGTERM)

    def kill(self) -> None:
        """See :class:`RunProcess`."""
        _signal_group(self.run_pid, signal.SIGKILL)

    def last_error(self) -> str:
        """Unknown for an adopted run: its record says how it ended."""
        return ""

    def close(self) -> None:
        """Nothing to remove: an adopted run has no scratch files here."""


@dataclass
class FerryRunLauncher:
    """Starts ``python -m workflows.cli run PIPELINE --pipelines P --store S -p ...``."""

    pipelines: str
    store: str
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ferry-serve-")))

    def command(self, pipeline: str, parameters: Mapping[str, str]) -> list[str]:
        """The child's argv."""
        argv = [sys.executable, "-m", "workflows.cli", "run", pipeline]
        argv += ["--pipelines", self.pipelines, "--store", self.store, "--output", "json"]
        for name, value in parameters.items():
            argv += ["-p", f"{name}={value}"]
        return argv

    def launch(self, pipeline: str, parameters: Mapping[str, str]) -> RunProcess:
        """See :class:`Launcher`."""
        handle, name = tempfile.mkstemp(prefix=f"{pipeline}-", suffix=".stderr", dir=self.scratch)
        with os.fdopen(handle, "wb") as stderr:
            process = subprocess.Popen(
                self.command(pipeline, parameters),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        return ChildRun(process, Path(name))

    def adopt(self, pid: int) -> RunProcess:
        """See :class:`Launcher`."""
        return AdoptedRun(pid)
