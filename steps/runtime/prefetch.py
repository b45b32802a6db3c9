"""Overlap reading a source with writing Parquet, with a bounded number of batches in flight.

A database driver fetching the next batch and pyarrow encoding the previous one both
release the GIL, so reading in a background thread lets the two run at the same
time instead of one after the other. At most ``depth`` batches wait in the queue, so
memory stays bounded by the batch size.

The reading thread never outlives its consumer: closing the iterator (leaving a
``with closing(...)`` block, or reading it to the end) stops the thread, closes the
source in it and joins it. The thread is not a daemon, so the interpreter waits for
it instead of shutting down under it: a thread killed while inside pyarrow, DuckDB
or a database driver aborts the process (``terminate called without an active
exception``) after the step has succeeded. Should a consumer drop the iterator
without closing it, the thread still stops by itself once the main thread has ended.
"""

import contextlib
import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_WAIT_SECONDS = 0.1
"""How often a producer waiting for room in the queue checks that it should go on."""


def prefetched(source: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield ``source``'s items, produced by a background thread up to ``depth`` ahead.

    An exception raised by ``source`` is re-raised here, in the consumer's thread.
    When the consumer stops early (closes this generator), the producer is told to
    stop, closes ``source`` and is joined before ``close()`` returns. Close it
    explicitly (``contextlib.closing``) where the consumer may stop early: a generator
    left to the garbage collector is closed whenever that runs.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    main = threading.main_thread()

    def go_on() -> bool:
        return not stop.is_set() and main.is_alive()

    def offer(item: object) -> bool:
        """Queue ``item`` once there is room; False when told to stop first."""
        while go_on():
            try:
                slots.put(item, timeout=_WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as err:  # handed to the consumer, which re-raises it
            offer(err)
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # here, in the thread that ran it: a generator's cleanup
                with contextlib.suppress(Exception):  # the consumer has its outcome already
                    close()

    thread = threading.Thread(target=produce, name="ferry-prefetch", daemon=False)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(timeout=_WAIT_SECONDS)
