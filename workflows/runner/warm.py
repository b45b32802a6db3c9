"""Step interpreters started ahead of their steps, so a step starts with its imports done.

Every step is a process of its own, as a pod is on the cluster, and starting Python
and importing pyarrow, DuckDB and the step harness costs 0.3-0.4 s before the first
row: on the critical path of every step, and on one core while the other waits.
The runner keeps up to two such interpreters ready (``workflows.runner.warm_child``),
started in the background while the run renders and while earlier steps work, and
hands each attempt of a ``python -m steps`` command to one that has finished its
imports (an interpreter still importing is not waited for). The step then
runs exactly as after a cold start: same command line, environment and log, its
own session and parent-death signal, its exit code; only what it imported first is
already there. The scheduler says how many steps are still to start
(:meth:`WarmStarts.want`), so a run's last step leaves no spare one behind.

An interpreter is used only if the attempt's environment agrees with the one it
was started in on everything read at interpreter or library start (``PYTHON*``
except ``PYTHONPATH``, which it applies itself, ``LD_*``, ``TZ``, locale, thread
and allocator settings); otherwise, or when none is ready, the step starts cold.
``FERRY_WARM_STARTS=0`` turns it off.
"""

import contextlib
import os
import subprocess
import sys
import threading

from workflows.runner.parent_death import die_with_runner
from workflows.runner.warm_child import READY_SIGNAL

DISABLE_ENV = "FERRY_WARM_STARTS"
READY = 2
"""Interpreters kept ready at most: as many as steps start at once on a 2-core machine."""

_STARTUP_PREFIXES = ("PYTHON", "LD_", "MALLOC_", "ARROW_", "OMP_", "DUCKDB_", "LC_")
_STARTUP_NAMES = ("TZ", "LANG", "LANGUAGE")


def _read_at_startup(name: str) -> bool:
    """Whether a variable takes effect only when the interpreter or a library starts."""
    if name == "PYTHONPATH":
        return False  # the child applies the step's own
    return name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES


def _startup_view(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if _read_at_startup(k)}


class _Ready:
    """A started interpreter and the environment it started in."""

    def __init__(self, process: "subprocess.Popen[bytes]", env: dict[str, str]) -> None:
        self.process = process
        self.startup = _startup_view(env)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _imported(process: "subprocess.Popen[bytes]") -> bool:
    """Wait until the interpreter has done its imports (it says so on its stdout)."""
    assert process.stdout is not None
    said = process.stdout.read(len(READY_SIGNAL))
    process.stdout.close()
    return said == READY_SIGNAL


class WarmStarts:
    """Keeps step interpreters started; :meth:`take` hands one to an attempt.

    The interpreters are started by one long-lived thread: the parent-death signal a
    child gets follows the thread that started it, which must outlive every step.
    """

    def __init__(self, ready: int = READY) -> None:
        self._limit = ready
        self._target = 0
        self._starting = 0
        self._ready: list[_Ready] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @staticmethod
    def enabled() -> bool:
        """Whether warm starts are on (``FERRY_WARM_STARTS`` is not ``0``)."""
        return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")

    def want(self, steps: int) -> None:
        """Keep ready as many interpreters as ``steps`` still to start can use (at most READY)."""
        if not self.enabled():
            return
        with self._changed:
            self._target = min(self._limit, max(0, steps))
            extra = self._ready[self._target :]
            del self._ready[self._target :]
            if self._thread is None and self._target:
                self._thread = threading.Thread(
                    target=self._keep_ready, name="ferry-warm-starts", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()
        for ready in extra:
            ready.discard()

    def take(self, argv: tuple[str, ...], env: dict[str, str]) -> "subprocess.Popen[bytes] | None":
        """A ready interpreter for ``python *argv`` in ``env``, or None to start it cold."""
        if not self.enabled() or tuple(argv[:2]) != ("-m", "steps"):
            return None
        with self._changed:
            ready = self._ready.pop(0) if self._ready else None
            self._changed.notify_all()  # its replacement starts while this step runs
        if ready is None:
            return None
        if ready.process.poll() is not None or ready.startup != _startup_view(env):
            ready.discard()
            return None
        return ready.process

    def close(self) -> None:
        """Stop the interpreters that are ready and unused (a run has ended)."""
        self.want(0)

    def _keep_ready(self) -> None:
        while True:
            with self._changed:
                while len(self._ready) + self._starting >= self._target:
                    self._changed.wait()
                self._starting += 1
            env = dict(os.environ)
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", "workflows.runner.warm_child"],
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                    preexec_fn=die_with_runner(),
                )
            except OSError:  # no processes or files left: steps start cold from now on
                with self._changed:
                    self._starting -= 1
                    self._limit = self._target = 0  # this thread stays: it is the steps' parent
                continue
            threading.Thread(
                target=self._await_imports, args=(process, env), name="ferry-warm-wait", daemon=True
            ).start()

    def _await_imports(self, process: "subprocess.Popen[bytes]", env: dict[str, str]) -> None:
        """Make ``process`` ready once it has imported, unless it is no longer wanted."""
        imported = _imported(process)
        with self._changed:
            self._starting -= 1
            keep = imported and len(self._ready) < self._target
            if keep:
                self._ready.append(_Ready(process, env))
            self._changed.notify_all()
        if not keep:
            _Ready(process, env).discard()


WARM_STARTS = WarmStarts()
"""The runner process's interpreters (one set, whatever runs it starts)."""
