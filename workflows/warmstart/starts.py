"""Steps forked from a server that has done their imports, so a step starts with them done.

Every step is a process of its own, as a pod is on the cluster, and starting Python
and importing pyarrow, DuckDB and the step harness costs 0.3-0.4 s of CPU before
the first row: on the critical path of every step, and on a core another step
could use. The runner instead keeps one fork server (``workflows.warmstart.server``)
that imports them once, started in the background while the run renders, and has
it fork each attempt of a ``python -m steps`` command: a fork costs milliseconds.
The step then runs exactly as after a cold start: same command line, environment
and log, its own session and parent-death signal, its exit code; only what it
imported first is already there. The scheduler says how many steps may still start
an attempt (:meth:`WarmStarts.want`); with none left the server ends once its
steps have.

An attempt is forked only if its environment agrees with the one the server was
started in on everything read at interpreter or library start (``PYTHON*`` except
``PYTHONPATH``, which the child applies itself, ``LD_*``, ``TZ``, locale, thread
and allocator settings); otherwise, or when the server is gone, the step starts
cold. ``FERRY_WARM_STARTS=0`` turns it off.
"""

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from workflows.parent_death import die_with_runner

DISABLE_ENV = "FERRY_WARM_STARTS"
IMPORT_WAIT_SECONDS = 30.0
"""How long an attempt waits for the server's imports before starting cold instead.

Waiting is never slower than a cold start, which does the same imports from the
beginning; the bound only matters for a server that hangs."""
ORDER_WAIT_SECONDS = 10.0
"""How long an attempt waits for the server to say it forked the step."""
STOP_WAIT_SECONDS = 5.0
"""How long :meth:`WarmStarts.close` waits for an idle server to exit before killing it."""

_STARTUP_PREFIXES = ("PYTHON", "LD_", "MALLOC_", "ARROW_", "OMP_", "DUCKDB_", "LC_")
_STARTUP_NAMES = ("TZ", "LANG", "LANGUAGE")


def _read_at_startup(name: str) -> bool:
    """Whether a variable takes effect only when the interpreter or a library starts."""
    if name == "PYTHONPATH":
        return False  # the child applies the step's own
    return name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES


def _startup_view(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if _read_at_startup(k)}


class ForkedStep:
    """A step process forked by the server: what the attempt needs of a ``Popen``.

    The server is its parent, so its end is learnt from the server's report; the
    process is signalled by pid (it leads its own process group, as a cold start).
    """

    def __init__(self, pid: int, stderr: IO[bytes]) -> None:
        self.pid = pid
        self.stderr = stderr
        self.returncode: int | None = None
        self._ended = threading.Event()

    def ended_with(self, returncode: int) -> None:
        """The server reaped it (or died, taking it along)."""
        self.returncode = returncode
        self._ended.set()

    def poll(self) -> int | None:
        """Its exit code, or None while it runs."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code once it has ended; ``TimeoutExpired`` after ``timeout`` seconds."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(["python", "-m", "steps"], timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """SIGKILL it, unless it has ended."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class _Order:
    """An order sent to the server, until it says which pid it forked."""

    def __init__(self, stderr: IO[bytes]) -> None:
        self.stderr = stderr
        self.step: ForkedStep | None = None
        self.answered = threading.Event()


class _Server:
    """One fork server process, its socket, and the steps it forked that still run."""

    def __init__(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workflows.warmstart.server", str(theirs.fileno())],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
                preexec_fn=die_with_runner(),
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.startup = _startup_view(env)
        self.ready = threading.Event()
        self.gone = threading.Event()
        self._sock = ours
        self._lock = threading.Lock()
        self._orders: dict[int, _Order] = {}
        self._steps: dict[int, ForkedStep] = {}
        self._numbers = itertools.count()
        threading.Thread(target=self._read, name="ferry-fork-server", daemon=True).start()

    def fork(self, argv: tuple[str, ...], env: dict[str, str], stdout: Path) -> ForkedStep | None:
        """Have the server fork ``python *argv``; None if it cannot (start it cold)."""
        read_end, write_end = os.pipe()
        order = _Order(os.fdopen(read_end, "rb"))
        with self._lock:
            number = next(self._numbers)
            self._orders[number] = order
        message = {"order": number, "argv": list(argv), "env": env, "stdout": str(stdout)}
        try:
            socket.send_fds(self._sock, [json.dumps(message).encode()], [write_end])
        except OSError:  # gone, or an environment too large for one message
            order.answered.set()
        finally:
            os.close(write_end)
        order.answered.wait(ORDER_WAIT_SECONDS)
        with self._lock:
            self._orders.pop(number, None)
            step = order.step
        if step is None:
            order.stderr.close()
            if not order.answered.is_set():
                self.kill()  # it forked nothing in time: a hung server starts nothing more
        return step

    def stop(self) -> None:
        """Take no more orders; the server exits once its steps have ended."""
        with contextlib.suppress(OSError):
            self._sock.send(json.dumps({"stop": True}).encode())

    def kill(self) -> None:
        """End the server now (its running steps die with it)."""
        with contextlib.suppress(OSError):
            self.process.kill()

    def _read(self) -> None:
        """Route the server's answers and exit reports; when it ends, end what is left."""
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            self._handle(json.loads(data))
        self._sock.close()
        self.process.wait()
        self.gone.set()
        self.ready.set()  # nobody waits for a server that is gone
        with self._lock:
            orders, steps = list(self._orders.values()), list(self._steps.values())
            self._steps.clear()
        for order in orders:
            order.answered.set()
        for step in steps:  # the parent-death signal killed them with the server
            step.ended_with(-signal.SIGKILL)

    def _handle(self, message: dict[str, object]) -> None:
        if message.get("ready"):
            self.ready.set()
        elif "order" in message:
            with self._lock:
                order = self._orders.get(int(message["order"]))  # type: ignore[call-overload]
                if order is None:
                    return
                if "pid" in message:  # else it could not fork: the attempt starts cold
                    pid = int(message["pid"])  # type: ignore[call-overload]
                    order.step = ForkedStep(pid, order.stderr)
                    self._steps[pid] = order.step
            order.answered.set()
        elif "pid" in message:
            with self._lock:
                step = self._steps.pop(int(message["pid"]), None)  # type: ignore[call-overload]
            if step is not None:
                step.ended_with(int(message["returncode"]))  # type: ignore[call-overload]


class WarmStarts:
    """Keeps a fork server for step attempts; :meth:`start` forks one from it.

    The server is started by one long-lived thread: the parent-death signal a child
    gets follows the thread that started it, which must outlive every step.
    """

    def __init__(self) -> None:
        self._wanted = False
        self._server: _Server | None = None
        self._stopped: list[_Server] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @staticmethod
    def enabled() -> bool:
        """Whether warm starts are on (``FERRY_WARM_STARTS`` is not ``0``)."""
        return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")

    def want(self, steps: int) -> None:
        """Keep a server while ``steps`` (tasks that may still start an attempt) is above 0."""
        if not self.enabled():
            return
        with self._changed:
            self._wanted = steps > 0
            if not self._wanted and self._server is not None:
                self._retire(self._server)
                self._server = None
            if self._thread is None and self._wanted:
                self._thread = threading.Thread(
                    target=self._keep_server, name="ferry-warm-starts", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def start(self, argv: tuple[str, ...], env: dict[str, str], stdout: Path) -> ForkedStep | None:
        """The attempt ``python *argv`` in ``env`` forked by the server; None: start it cold."""
        if not self.enabled() or tuple(argv[:2]) != ("-m", "steps"):
            return None
        with self._changed:  # a server being started is waited for: it is ahead of a cold start
            self._changed.wait_for(
                lambda: self._server is not None or not self._wanted, IMPORT_WAIT_SECONDS
            )
            server = self._server
        if server is None or server.startup != _startup_view(env):
            return None
        step = server.fork(argv, env, stdout) if server.ready.wait(IMPORT_WAIT_SECONDS) else None
        if server.gone.is_set():  # it died: a new one serves the attempts after this one
            with self._changed:
                if self._server is server:
                    self._server = None
                    self._changed.notify_all()
        return step

    def close(self) -> None:
        """Stop the server and wait for it (a run has ended; its steps have)."""
        self.want(0)
        with self._changed:
            stopped, self._stopped = self._stopped, []
        for server in stopped:
            if not server.gone.wait(STOP_WAIT_SECONDS):
                server.kill()
                server.gone.wait(STOP_WAIT_SECONDS)

    def _keep_server(self) -> None:
        while True:
            with self._changed:
                while not self._wanted or self._server is not None:
                    self._changed.wait()
            try:
                server = _Server(dict(os.environ))
            except OSError:  # no processes or files left: steps start cold from now on
                with self._changed:
                    self._wanted = False
                continue
            with self._changed:
                if self._wanted and self._server is None:
                    self._server = server
                    self._changed.notify_all()
                else:  # no longer wanted while it started
                    self._retire(server)

    def _retire(self, server: _Server) -> None:
        """Stop ``server`` and keep it for :meth:`close` to wait for (lock held)."""
        server.stop()
        self._stopped = [s for s in self._stopped if not s.gone.is_set()]
        self._stopped.append(server)


WARM_STARTS = WarmStarts()
"""The runner process's fork server (one at a time, whatever runs it serves)."""
