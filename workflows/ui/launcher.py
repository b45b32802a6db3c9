"""Start ``ferry run``, ``ferry retry`` and ``ferry backfill`` for the UI's buttons.

The UI never runs a pipeline itself: it starts the same CLI command a person would
type, with the server's ``--pipelines`` and ``--store``, as a detached process (its
own session, so stopping the server does not stop the run). The runner writes its
process id into the run record, which is how the UI finds the run a button started
and redirects to it. The command's stderr goes to a file, so a command that exits
before starting a run (a bad parameter) is reported in one line; the file is removed
once the button has its answer. The launcher keeps the commands it started until they
end, so whoever embeds the UI can tell which are still going (:meth:`Launcher.live`).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workflows.ui.run_index import RunIndex, RunSummary

START_TIMEOUT_SECONDS = 60.0
"""How long a button waits for the run it started to write its record."""

_POLL_SECONDS = 0.1


class LaunchFailed(RuntimeError):
    """The command ended before it started a run; the message is its last error line."""


def ferry_command() -> list[str]:
    """The ``ferry`` console script of this interpreter, or the same entry point via ``-c``."""
    beside = Path(sys.executable).parent / "ferry"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("ferry")
    if found:
        return [found]
    return [sys.executable, "-c", "from workflows.cli import main; main()"]


@dataclass(frozen=True)
class Started:
    """A command the UI started: its process id and where its stderr goes."""

    pid: int
    process: subprocess.Popen[bytes]
    stderr_file: Path

    def ended(self) -> bool:
        """Whether the process has exited."""
        return self.process.poll() is not None

    def last_error(self) -> str:
        """The last non-empty line the command wrote to stderr."""
        try:
            lines = self.stderr_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return next((line.strip() for line in reversed(lines) if line.strip()), "")

    def discard(self) -> None:
        """Remove the stderr file (a command still running keeps writing to it unseen)."""
        self.stderr_file.unlink(missing_ok=True)


class Launcher:
    """Starts CLI commands detached and finds the runs they start."""

    def __init__(self, pipelines: Sequence[str], store: str) -> None:
        """Commands get ``--pipelines`` for each of ``pipelines`` and ``--store store``."""
        self._pipelines = list(pipelines)
        self._store = store
        self._stderr_dir = Path(tempfile.mkdtemp(prefix="ferry-ui-"))
        self._started: list[Started] = []
        self._lock = threading.Lock()

    def live(self) -> list[Started]:
        """The commands this launcher started that have not ended yet, oldest first."""
        with self._lock:
            self._started = [s for s in self._started if not s.ended()]
            return list(self._started)

    def run(self, pipeline: str, params: dict[str, str]) -> Started:
        """``ferry run PIPELINE --pipelines ... --store ... -p k=v ...``."""
        return self._start(["run", pipeline, *self._pipeline_args(), *_params(params)])

    def retry(self, run_id: str) -> Started:
        """``ferry retry RUN_ID --store ...`` (a retry finds its pipeline in the record)."""
        return self._start(["retry", run_id])

    def backfill(self, pipeline: str, since: str, until: str, params: dict[str, str]) -> Started:
        """``ferry backfill PIPELINE --from SINCE --to UNTIL --pipelines ... --store ...``."""
        args = ["backfill", pipeline, "--from", since, "--to", until]
        return self._start([*args, *self._pipeline_args(), *_params(params)])

    def _pipeline_args(self) -> list[str]:
        return [arg for path in self._pipelines for arg in ("--pipelines", path)]

    def _start(self, args: list[str]) -> Started:
        stderr_file = self._stderr_dir / f"{time.time_ns()}.stderr"
        with stderr_file.open("wb") as stderr:
            process = subprocess.Popen(
                [*ferry_command(), *args, "--store", self._store],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
        started = Started(process.pid, process, stderr_file)
        with self._lock:
            self._started = [s for s in self._started if not s.ended()]
            self._started.append(started)
        return started


def _params(params: dict[str, str]) -> list[str]:
    return [arg for name, value in params.items() for arg in ("-p", f"{name}={value}")]


def wait_for_run(
    started: Started,
    index: RunIndex,
    pipeline: str,
    timeout: float = START_TIMEOUT_SECONDS,
) -> RunSummary | None:
    """The run of ``pipeline`` whose record names ``started``'s process as its runner.

    Returns None when the command ended without starting one (nothing to do, e.g. a
    backfill whose intervals all ran already).

    Raises:
        LaunchFailed: the command failed before it started a run, or no run appeared
            within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        for run in index.runs(pipeline):
            if run.runner_pid == started.pid:
                return run
        if started.ended():
            code = started.process.returncode
            if code == 0:
                return None
            raise LaunchFailed(started.last_error() or f"the command exited with code {code}")
        if time.monotonic() > deadline:
            raise LaunchFailed(
                f"no run record from process {started.pid} after {timeout:g}s; it may still "
                "be starting: look at the runs page"
            )
        time.sleep(_POLL_SECONDS)
