"""The step fork server: libraries imported once, a fresh step process forked per attempt.

The local runner starts one of these ahead (``workflows.warmstart.starts``) so that a
step does not spend its first 0.3-0.4 s of CPU starting Python and importing
pyarrow, DuckDB and Ferry's step harness while the run waits for it. The server
imports them, says so, and then forks one child per order it receives on its
socket (``SOCK_SEQPACKET``: one JSON message per order, with the step's stderr
pipe attached). The child becomes that step's process (its own session, the
parent-death signal, stderr, stdout appended to the attempt's log, environment,
``PYTHONPATH``, argv) and runs ``python -m steps`` exactly as a cold start would;
its exit code is the step's. The server answers each order with the child's pid and
reports each child's exit status when it reaps it.

The server stays single-threaded, so a fork copies no lock held by another thread.
It exits once told to stop (or when the runner's end of the socket closes) and its
last child has ended, after reporting it.

Messages, server to runner: ``{"ready": true}``; ``{"order": N, "pid": P}`` or
``{"order": N, "error": "..."}``; ``{"pid": P, "returncode": R}`` (negative: killed
by that signal, as ``subprocess`` reports it).
"""

import contextlib
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import traceback

from workflows.parent_death import die_with_parent
from workflows.process_exit import exit_code, exit_now

MESSAGE_LIMIT = 1 << 20
"""Largest order accepted (an environment of that size is far beyond any real one)."""

PRELOADED = (
    "numpy",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.csv",
    "pyarrow.dataset",
    "pyarrow.fs",
    "pyarrow.parquet",
    "duckdb",
    "steps.runtime.harness",
)
"""What most steps import before their first row: about 0.4 s of CPU, paid once per server."""


def _preload() -> None:
    """Import the libraries, then every step kind's config and run modules.

    A kind's own modules cost a step 0.01-0.1 s more before its first row; the
    server has them imported long before the run has rendered. A kind that cannot be
    imported here (a missing optional driver) is left to its step, which then fails
    with its own message exactly as a cold start would.
    """
    for name in PRELOADED:
        importlib.import_module(name)
    from steps.registry import KINDS

    for kind in KINDS.values():
        with contextlib.suppress(Exception):
            kind.load_config_class()
            kind.load_run()


def _python_path(env: dict[str, str]) -> list[str]:
    return [folder for folder in env.get("PYTHONPATH", "").split(os.pathsep) if folder]


def _become(order: dict[str, object], stderr: int) -> None:
    """Take on the step's stderr, stdout, environment, import path and command line."""
    os.dup2(stderr, 2)
    os.close(stderr)
    log = os.open(str(order["stdout"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.close(log)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.close(quiet)
    env = dict(order["env"])  # type: ignore[call-overload]
    started_with = _python_path(dict(os.environ))
    os.environ.clear()
    os.environ.update(env)
    kept = [sys.path[0], *(p for p in sys.path[1:] if p not in started_with)]
    sys.path[:] = [kept[0], *_python_path(env), *kept[1:]]  # as the interpreter orders them
    importlib.invalidate_caches()
    argv = [str(a) for a in order["argv"]]  # type: ignore[attr-defined]
    sys.argv = ["", *argv[2:]]  # argv is ("-m", "steps", kind, ...); runpy sets argv[0]


def _run_step() -> int:
    try:
        runpy.run_module("steps", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return exit_code(stop.code)
    return 0


class _Server:
    """Forks steps on order and reports how they end, on one thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._children: set[int] = set()
        self._stopping = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select below
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._selector.register(sock, selectors.EVENT_READ)

    def serve(self) -> None:
        self._send({"ready": True})
        while not (self._stopping and not self._children):
            for key, _ in self._selector.select():
                if key.fileobj == self._wake_read:
                    os.read(self._wake_read, 4096)
                else:
                    self._receive()
            self._reap()

    def _receive(self) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(self._sock, MESSAGE_LIMIT, 1)
        except OSError:
            data, fds = b"", []
        if not data:  # the runner's end closed: it starts nothing more here
            self._stop()
            return
        order = json.loads(data)
        if order.get("stop"):
            self._stop()
            for fd in fds:
                os.close(fd)
            return
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            self._send({"order": order["order"], "error": "an order needs its stderr pipe"})
            return
        server = os.getpid()
        try:
            pid = os.fork()
        except OSError as err:
            os.close(fds[0])
            self._send({"order": order["order"], "error": f"could not fork: {err}"})
            return
        if pid == 0:
            self._become_step(order, fds[0], server)
        os.close(fds[0])
        self._children.add(pid)
        self._send({"order": order["order"], "pid": pid})

    def _become_step(self, order: dict[str, object], stderr: int, server: int) -> None:
        """In the forked child: leave the server behind, become the step, never return."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self._selector.close()
            self._sock.close()
            os.close(self._wake_read)
            os.close(self._wake_write)
            os.setsid()
            die_with_parent(server)
            _become(order, stderr)
            code = _run_step()
        except BaseException:  # the child must end here, whatever happened
            traceback.print_exc()
        exit_now(code)

    def _reap(self) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self._children.clear()
                return
            if pid == 0:
                return
            self._children.discard(pid)
            self._send({"pid": pid, "returncode": os.waitstatus_to_exitcode(status)})

    def _stop(self) -> None:
        if not self._stopping:
            self._stopping = True
            self._selector.unregister(self._sock)

    def _send(self, message: dict[str, object]) -> None:
        with contextlib.suppress(OSError):  # the runner is gone: its steps die with it
            self._sock.send(json.dumps(message).encode())


def main() -> None:
    """Import, then fork steps on order until told to stop (``... server SOCKET_FD``).

    It ends without finalization (``exit_now``): tearing down what it imported would
    only delay the runner that waits for it.
    """
    sock = socket.socket(fileno=int(sys.argv[1]))
    _preload()
    _Server(sock).serve()
    exit_now(0)


if __name__ == "__main__":
    main()
