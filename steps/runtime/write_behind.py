"""Writes done on one background thread while the step computes the next batch.

Encoding and compressing Parquet takes about a quarter of a CSV extract's CPU time;
pyarrow does it without holding the GIL, so handing each batch to one writer thread
lets reading and casting the next batch use the other core. At most ``depth``
batches wait, so memory stays bounded by a few batches. The writes run in order,
and a write's error is raised in the step's own thread at the next submit or at
``drain``, as the very exception the write raised.
"""

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

DEPTH = 2
"""Writes that may wait behind the running one."""


class WriteBehind:
    """One background thread running submitted writes in order, with bounded backlog."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._depth = depth
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()
        self._failed = threading.Event()

    def submit(self, write: Callable[[], None]) -> None:
        """Queue ``write``; waits while ``depth`` writes are already waiting."""
        if self._pool is None:  # started on first use: a step that never writes has no thread
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="ferry-write")
        while len(self._pending) > self._depth:
            self._wait_oldest()
        self._pending.append(self._pool.submit(self._run, write))

    def _run(self, write: Callable[[], None]) -> None:
        if self._failed.is_set():  # nothing more is written after a failed write
            return
        try:
            write()
        except BaseException:
            self._failed.set()
            raise

    def drain(self) -> None:
        """Wait for every queued write; raise the first one's error."""
        while self._pending:
            self._wait_oldest()

    def _wait_oldest(self) -> None:
        try:
            self._pending.popleft().result()
        except BaseException:
            self._pending.clear()
            raise

    def close(self) -> None:
        """Drain, then stop the thread."""
        try:
            self.drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
