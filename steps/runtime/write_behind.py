"""Writes done on one background thread while the step computes the next batch.

Encoding and compressing Parquet takes about a quarter of a CSV extract's CPU time;
pyarrow does it without holding the GIL, so handing each batch to one writer thread
lets reading and casting the next batch use the other core. At most ``depth``
batches wait, so memory stays bounded by a few batches. The writes run in order,
and a write's error is raised in the step's own thread at the next submit or at
``drain``, as the very exception the write raised. The thread ends at :meth:`close`
(after the last write) or :meth:`cancel` (writes dropped), so it never outlives the
step: a thread still inside pyarrow when the interpreter shuts down can abort the
process.
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
            self._stop()

    def cancel(self) -> None:
        """Drop the writes still waiting, let the running one finish, stop the thread.

        For a step that fails before committing: its thread must not outlive it. Errors
        of the dropped or running writes are not raised; the step's own failure is the
        one to report.
        """
        self._failed.set()  # a queued write that starts anyway returns at once
        for pending in self._pending:
            pending.cancel()
        self._pending.clear()
        self._stop()

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
