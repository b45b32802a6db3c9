"""A step's interpreter started before its step: libraries imported, waiting for its command.

The local runner starts these ahead (``workflows.runner.warm``) so that a step does
not spend its first 0.3-0.4 s starting Python and importing pyarrow, DuckDB and
Ferry's step harness while the run waits for it. It reads one line from stdin,
``{"argv": [...], "env": {...}, "stdout": "<log file>"}``, becomes that step's
process (environment, ``PYTHONPATH``, stdout, argv) and runs ``python -m steps``
exactly as a cold start would; its exit code is the step's. At end of input (the
runner needed no more steps) it exits 0 without running anything.
"""

import atexit
import importlib
import json
import os
import runpy
import sys
import threading

READY_SIGNAL = b"ready\n"
"""Written to stdout once the imports are done (``workflows.runner.warm`` waits for it)."""

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
"""What most steps import before their first row: about 0.4 s of CPU."""


def _python_path(env: dict[str, str]) -> list[str]:
    return [folder for folder in env.get("PYTHONPATH", "").split(os.pathsep) if folder]


def _become(order: dict[str, object]) -> None:
    """Take on the step's environment, import path, stdout and command line."""
    env = dict(order["env"])  # type: ignore[call-overload]
    started_with = _python_path(dict(os.environ))
    os.environ.clear()
    os.environ.update(env)
    kept = [sys.path[0], *(p for p in sys.path[1:] if p not in started_with)]
    sys.path[:] = [kept[0], *_python_path(env), *kept[1:]]  # as the interpreter orders them
    importlib.invalidate_caches()
    log = os.open(str(order["stdout"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.close(log)
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.close(quiet)
    argv = [str(a) for a in order["argv"]]  # type: ignore[attr-defined]
    sys.argv = ["", *argv[2:]]  # argv is ("-m", "steps", kind, ...); runpy sets argv[0]


def _exit_code(code: object) -> int:
    """What ``sys.exit(code)`` makes the process exit with."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_step() -> int:
    try:
        runpy.run_module("steps", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return _exit_code(stop.code)
    return 0


def _finish() -> None:
    """Do what a normal exit does for a step's results.

    Wait for its threads, run the atexit handlers (a trace exporter's flush), flush
    stdout and stderr.
    """
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()


def main() -> int:
    """Import, wait for the step's command, run it; 0 when none comes.

    After the step, the process ends without the interpreter's finalization, which
    with pyarrow and DuckDB loaded takes about 0.05 s only to free memory the
    process is about to give back anyway; :func:`_finish` does first what a normal
    exit does for the step's results.
    """
    for name in PRELOADED:
        importlib.import_module(name)
    os.write(1, READY_SIGNAL)  # the runner hands out only interpreters that said so
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return 0
    _become(json.loads(line))
    code = _run_step()
    _finish()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
