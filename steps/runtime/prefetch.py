"""Overlap reading a source with writing Parquet, with a bounded number of batches in flight.

A database driver fetching the next batch and pyarrow encoding the previous one both
release the GIL, so reading in a background thread lets the two run at the same
time instead of one after the other. At most ``depth`` batches wait in the queue, so
memory stays bounded by the batch size.
"""

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(source: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield ``source``'s items, produced by a background thread up to ``depth`` ahead.

    An exception raised by ``source`` is re-raised here, in the consumer's thread.
    When the consumer stops early, the producer is told to stop and is joined.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as err:  # handed to the consumer, which re-raises it
            slots.put(err)

    thread = threading.Thread(target=produce, name="ferry-prefetch", daemon=True)
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
                thread.join(timeout=0.1)
