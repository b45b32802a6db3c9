"""End a process without the interpreter's finalization, once its results are safe.

With pyarrow, DuckDB, pydantic and Hera loaded, finalization (tearing down every
module and freeing every object) takes 0.05-0.3 s, spent only on memory the process
is about to give back anyway: ``ferry run`` and every step process would end that
much later. What a normal exit does for a process's results is done first: its
non-daemon threads are joined, the atexit handlers run (a trace exporter's flush),
stdout and stderr are flushed. Files are written in ``with`` blocks, so none is left
half-written in a buffer.
"""

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_code(code: object) -> int:
    """What ``sys.exit(code)`` makes the process exit with (printing a message, as Python)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: int) -> NoReturn:
    """Join the threads, run atexit handlers, flush, and end the process with ``code``."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing more can reach it
            stream.flush()
    os._exit(code)
