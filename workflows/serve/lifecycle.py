"""The server process: checks, start, the loop, signals, and a clean stop.

Start: refuse a non-loopback ``--host`` without a token, render the pipelines, take
the store's server lock (one ``ferry serve`` per local store, or two would start
every run twice), bind the port, settle what an earlier process left (catch-up),
then serve HTTP in a thread while the main thread ticks the scheduler every
``tick_seconds`` and polls the object watches every ``poll_seconds``. SIGTERM or
SIGINT: no new runs, the running ones get SIGTERM (SIGKILL after ``stop_seconds``),
the state is saved, exit 0.
"""

import contextlib
import fcntl
import importlib
import importlib.util
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from workflows.errors import UsageError
from workflows.serve.scheduler import STOP_SECONDS, Catchup

DEFAULT_PORT = 8780
DEFAULT_POLL_SECONDS = 10.0
TICK_SECONDS = 1.0
START_TIMEOUT_SECONDS = 15.0
"""Longest wait for the HTTP server to come up before giving up (exit 1)."""
UI_MODULE = "workflows.ui"
"""The web UI package; when installed its ``create_ui_app(store_uri, pipelines)`` is at ``/``."""


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``ferry serve`` is told on its command line."""

    pipelines: str
    store: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token_env: str | None = None
    catchup: Catchup = "latest"
    namespace: str = "default"
    buckets: str = "s3://"
    poll_seconds: float = DEFAULT_POLL_SECONDS
    stop_seconds: float = STOP_SECONDS
    tick_seconds: float = TICK_SECONDS


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (nothing else on the network reaches it)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_token(host: str, token_env: str | None) -> str | None:
    """The bearer token from ``$token_env``; refuse exposing the server without one.

    Raises:
        UsageError: the variable is unset or empty, or a non-loopback host has no token.
    """
    token = None
    if token_env is not None:
        token = os.environ.get(token_env) or None
        if token is None:
            raise UsageError(
                f"--token-env {token_env}: ${token_env} is not set or empty; export the token "
                "in it, or drop --token-env on a loopback --host"
            )
    if token is None and not is_loopback(host):
        raise UsageError(
            f"--host {host} is not a loopback address, so anyone who reaches it could start "
            "runs; set --token-env NAME with a token in $NAME, or use --host 127.0.0.1"
        )
    return token


def ui_app(store: str, pipelines: str) -> Any:
    """UI mount point: the web UI at ``/``, from ``workflows.ui.create_ui_app`` when installed.

    Returns None while that package is absent; the server then says so on start.
    """
    if importlib.util.find_spec(UI_MODULE) is None:
        return None
    return importlib.import_module(UI_MODULE).create_ui_app(store, pipelines)


class ServerLock:
    """One server per local store: an exclusive ``flock`` on ``STORE/serve/.lock``.

    The kernel releases it however the server ends. An S3 store has no lock: run one
    server per S3 store.
    """

    def __init__(self, store_path: str, is_local: bool) -> None:
        self.path = os.path.join(store_path, "serve", ".lock")
        self.is_local = is_local
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take it, or refuse with who holds it.

        Raises:
            UsageError: another server holds it (exit 2).
        """
        if not self.is_local:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise UsageError(
                f"another ferry serve (pid {holder}) already serves this store ({self.path}); "
                "stop it first, or give this one another --store"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next server in."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    Raises:
        UsageError: the address cannot be bound (in use, not this machine's) (exit 2).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UsageError(
            f"--host {host} --port {port}: cannot listen there ({err.strerror}); pick another "
            "--port (0 for any free one) or stop what uses it"
        ) from None
    sock.listen(128)
    return sock


def _where(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(options: ServeOptions) -> int:
    """Run the server until SIGTERM or SIGINT; 0 after a clean stop.

    Raises:
        UsageError: a bad option, pipeline, store or address (exit 2), before anything runs.
        DefinitionError: a pipeline does not validate (exit 2).
    """
    import uvicorn

    from workflows.monitoring.metrics import exposition, samples
    from workflows.runner.run_store import open_store, prepare_store, read_runs
    from workflows.serve.app import create_app
    from workflows.serve.arrivals import ArrivalWatch
    from workflows.serve.eventlog import EventLog
    from workflows.serve.intake import Intake
    from workflows.serve.runs import FerryRunLauncher
    from workflows.serve.scheduler import Scheduler
    from workflows.serve.served import load_served

    token = configured_token(options.host, options.token_env)
    served = load_served([options.pipelines])
    location = open_store(options.store)
    prepare_store(location)
    lock = ServerLock(location.path, location.is_local)
    lock.acquire()
    sock = bind(options.host, options.port)
    log = EventLog()
    scheduler = Scheduler(
        served,
        options.store,
        FerryRunLauncher(options.pipelines, options.store),
        log,
        catchup=options.catchup,
        stop_seconds=options.stop_seconds,
    )
    intake = Intake([b for p in served.values() for b in p.bindings], scheduler, log)
    watches = [
        ArrivalWatch(t, options.buckets, location) for p in served.values() for t in p.arrivals
    ]
    ui = ui_app(options.store, options.pipelines)
    app = create_app(
        intake,
        options.namespace,
        lambda: exposition(samples(read_runs(options.store).records)),
        token=token,
        ui=ui,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.recover()
        http = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="http", daemon=True
        )
        http.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started and http.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            from workflows.errors import RunFailed

            raise RunFailed(f"the HTTP server did not start within {START_TIMEOUT_SECONDS:.0f} s")
        port = sock.getsockname()[1]
        where = _where(options.host, port)
        _announce(where, options, served, ui is not None)
        log(
            "serving",
            url=where,
            pipelines=sorted(served),
            store=options.store,
            catchup=options.catchup,
        )
        next_poll = 0.0
        while not stop.is_set():
            _guarded(log, "tick", scheduler.tick)
            if watches and time.monotonic() >= next_poll:
                for watch in watches:
                    _guarded(log, "watch", lambda w=watch: w.poll(intake, log))
                next_poll = time.monotonic() + options.poll_seconds
            stop.wait(options.tick_seconds)
        log("stopping", signal=received[0] if received else None)
        scheduler.shutdown()
        server.should_exit = True
        http.join(timeout=10)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        lock.release()
    return 0


def _guarded(log: Any, what: str, action: Any) -> None:
    """Run one loop action; a store or filesystem problem is logged and retried next time."""
    from workflows.errors import FerryError

    try:
        action()
    except (OSError, FerryError) as err:
        log("error", during=what, reason=" ".join(str(err).split()))


def _announce(where: str, options: ServeOptions, served: dict[str, Any], has_ui: bool) -> None:
    """Say on stdout where the server, its event endpoint, metrics and UI are."""
    scheduled = sorted(n for n, p in served.items() if p.cron is not None)
    lines = [
        f"ferry serve: {where} (store {options.store}; {len(served)} pipelines, "
        f"{len(scheduled)} on a schedule; catch-up {options.catchup})",
        f"  events:  POST {where}/api/v1/events/{options.namespace}/<discriminator>",
        f"  metrics: {where}/metrics",
        f"  health:  {where}/healthz",
        f"  UI:      {where}/" if has_ui else f"  UI:      not installed ({UI_MODULE})",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
