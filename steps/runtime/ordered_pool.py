"""Apply a function to a stream of items on a few threads, results in input order.

A step's per-chunk work (parsing a CSV block, evaluating rules on a batch) runs in
pyarrow and DuckDB, which release the GIL, so two threads keep both cores of a pod
busy. The results come back in the order of the items, so row order, line numbers
and accounting stay exactly as with one thread. At most ``depth`` items are in
flight, which bounds memory by the chunk size; the source is read by the caller's
thread, so an iterator that is not thread-safe is fine.
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 2
"""Threads per step: a step's container may use two cores by default (``Resources.cpu_limit``
and the chart's ``workflow.resources``)."""


def ordered_map(
    func: Callable[[T], R],
    items: Iterable[T],
    workers: int = WORKERS,
    depth: int | None = None,
) -> Iterator[R]:
    """Yield ``func(item)`` for each item, in order, computed by ``workers`` threads.

    ``depth`` (default twice the workers) items are submitted ahead of the one being
    yielded. An exception from ``func`` is raised here when its item's turn comes,
    after the results before it; an exception from ``items`` is raised once the
    results before it are yielded. When the consumer stops early, or an error is
    raised, the items not started are cancelled, the source is closed (a generator
    holding a thread or a connection lets go of it) and the running items are waited
    for, so no thread outlives the iteration.
    """
    ahead = depth if depth is not None else 2 * workers
    pending: deque[Future[R]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(workers, thread_name_prefix="ferry-work") as pool:
        failure: BaseException | None = None
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < ahead:
                    try:
                        item = next(source, _END)
                    except Exception as err:  # raised once the results before it are out
                        failure, item = err, _END
                    if item is _END:
                        exhausted = True
                    else:
                        pending.append(pool.submit(func, item))  # type: ignore[arg-type]
                if not pending:
                    if failure is not None:
                        raise failure
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            close = getattr(source, "close", None)
            if close is not None:  # a generator: stop it now, not whenever it is collected
                close()


_END = object()
